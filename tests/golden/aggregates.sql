# COUNT() counts rows, COUNT(p) rows where p is defined (null counts), 0 when never defined
fixture: mixed
SELECT COUNT() AS n, COUNT(tags.x) AS defined, COUNT(tags.nope) AS none FROM devices
----
[
  {
    "n": 10,
    "defined": 9,
    "none": 0
  }
]
====
# SUM and AVG over numbers only (the string "7" is ignored); MIN and MAX in the cross-type order, so the string "7" is the MAX
fixture: mixed
SELECT SUM(tags.n) AS s, AVG(tags.n) AS a, MIN(tags.n) AS lo, MAX(tags.n) AS hi FROM devices
----
[
  {
    "s": 126.5,
    "a": 15.8125,
    "lo": -3,
    "hi": "7"
  }
]
====
# MIN and MAX across types: null is the least primitive; objects and arrays are ignored
fixture: mixed
SELECT MIN(tags.x) AS lo, MAX(tags.x) AS hi FROM devices
----
[
  {
    "lo": null,
    "hi": "b"
  }
]
====
# SUM of integers is an integer; AVG is an integer when it is integral
fixture: twins
SELECT SUM(version) AS v, AVG(version) AS a, SUM(cloudToDeviceMessageCount) AS c FROM devices
----
[
  {
    "v": 28,
    "a": 4,
    "c": 4
  }
]
====
# AVG of 5 and 5.0 is 5; SUM is 10
fixture: mixed
SELECT AVG(tags.n) AS a, SUM(tags.n) AS s FROM devices WHERE tags.n = 5
----
[
  {
    "a": 5,
    "s": 10
  }
]
====
# MIN and MAX among equal values return the first row's value as written (5, not 5.0)
fixture: mixed
SELECT MIN(tags.n) AS lo, MAX(tags.n) AS hi FROM devices WHERE deviceId IN ['m2', 'm1']
----
[
  {
    "lo": 5,
    "hi": 5
  }
]
====
# MIN and MAX of strings by bytes, of booleans false < true
fixture: twins
SELECT MIN(deviceId) AS first, MAX(deviceId) AS last, MIN(capabilities.iotEdge) AS anyFalse, MAX(capabilities.iotEdge) AS anyTrue,
  MIN(lastActivityTime) AS oldest, MAX(properties.reported.battery) AS fullest FROM devices
----
[
  {
    "first": "device1",
    "last": "tmp-5",
    "anyFalse": false,
    "anyTrue": true,
    "oldest": "0001-01-01T00:00:00Z",
    "fullest": 90
  }
]
====
# unaliased aggregates are keyed $1, $2, ... by their rank among the unaliased ones
fixture: mixed
SELECT COUNT(), SUM(tags.n), MIN(tags.n) AS lo, MAX(tags.n) FROM devices
----
[
  {
    "$1": 10,
    "$2": 126.5,
    "lo": -3,
    "$3": "7"
  }
]
====
# COUNT(*) is accepted as COUNT()
fixture: mixed
SELECT COUNT(*) AS n FROM devices WHERE status = 'disabled'
----
[
  {
    "n": 2
  }
]
====
# on no rows: one object, COUNT is 0 and the other aggregates are undefined (left out)
fixture: mixed
SELECT COUNT() AS n, SUM(tags.n) AS s, AVG(tags.n) AS a, MIN(tags.n) AS lo, MAX(tags.n) AS hi FROM devices WHERE false
----
[
  {
    "n": 0
  }
]
====
# SUM over nothing leaves an empty object
fixture: mixed
SELECT SUM(tags.n) AS s FROM devices WHERE deviceId = 'nobody'
----
[
  {}
]
====
# an empty hub: COUNT() is 0, keyed $1
fixture: empty
SELECT COUNT(), MAX(deviceId) FROM devices
----
[
  {
    "$1": 0
  }
]
====
# SUM and AVG of strings only are undefined
fixture: mixed
SELECT SUM(tags.s) AS s, AVG(tags.s) AS a, COUNT(tags.s) AS n FROM devices
----
[
  {
    "n": 9
  }
]
====
# expressions over aggregates
fixture: mixed
SELECT SUM(tags.n) / COUNT(tags.n) AS ratio, COUNT() * 2 AS twice, MAX(tags.n) + 1 AS notNumber FROM devices
----
[
  {
    "ratio": 14.055555555555555,
    "twice": 20
  }
]
====
# an expression inside an aggregate
fixture: mixed
SELECT SUM(tags.n * 2) AS s, COUNT(tags.n * 2) AS n, AVG(LENGTH(tags.s)) AS avgLen FROM devices
----
[
  {
    "s": 253,
    "n": 8,
    "avgLen": 5.111111111111111
  }
]
====
# MIN over objects only is undefined
fixture: mixed
SELECT MIN(tags.obj) AS lo, COUNT(tags.obj) AS n FROM devices
----
[
  {
    "n": 3
  }
]
====
# SUM of floats is exact, then rounded once: ten times 0.1 is 1
fixture: mixed
SELECT SUM(0.1) AS s, AVG(0.1) AS a FROM devices
----
[
  {
    "s": 1,
    "a": 0.1
  }
]
====
# aggregates over module twins
fixture: twins
SELECT COUNT() AS modules, COUNT(moduleId) AS named, SUM(version) AS versions FROM devices.modules
----
[
  {
    "modules": 5,
    "named": 5,
    "versions": 23
  }
]
====
# aggregates over modules in an export
fixture: export
SELECT COUNT() AS modules FROM devices.modules
----
[
  {
    "modules": 3
  }
]
====
# a WHERE before aggregating; TOP does not cut the single row
fixture: twins
SELECT TOP 5 COUNT() AS connected, AVG(properties.reported.battery) AS battery FROM devices WHERE connectionState = 'Connected'
----
[
  {
    "connected": 3,
    "battery": 90
  }
]
====
# TOP 0 on an aggregate query returns nothing
fixture: twins
SELECT TOP 0 COUNT() AS n FROM devices
----
[]
