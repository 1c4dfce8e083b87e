# ascending across types: undefined < null < booleans < numbers < strings (by bytes); objects and arrays last
fixture: mixed
SELECT deviceId, tags.x FROM devices ORDER BY tags.x
----
[
  {
    "deviceId": "m8"
  },
  {
    "deviceId": "m5",
    "x": null
  },
  {
    "deviceId": "m4",
    "x": true
  },
  {
    "deviceId": "m3",
    "x": 1
  },
  {
    "deviceId": "m10",
    "x": ""
  },
  {
    "deviceId": "m9",
    "x": "B"
  },
  {
    "deviceId": "m1",
    "x": "a"
  },
  {
    "deviceId": "m2",
    "x": "b"
  },
  {
    "deviceId": "m6",
    "x": {
      "k": 1
    }
  },
  {
    "deviceId": "m7",
    "x": [
      "a",
      "b"
    ]
  }
]
====
# descending reverses the order, but objects and arrays stay last
fixture: mixed
SELECT deviceId, tags.x FROM devices ORDER BY tags.x DESC
----
[
  {
    "deviceId": "m2",
    "x": "b"
  },
  {
    "deviceId": "m1",
    "x": "a"
  },
  {
    "deviceId": "m9",
    "x": "B"
  },
  {
    "deviceId": "m10",
    "x": ""
  },
  {
    "deviceId": "m3",
    "x": 1
  },
  {
    "deviceId": "m4",
    "x": true
  },
  {
    "deviceId": "m5",
    "x": null
  },
  {
    "deviceId": "m8"
  },
  {
    "deviceId": "m6",
    "x": {
      "k": 1
    }
  },
  {
    "deviceId": "m7",
    "x": [
      "a",
      "b"
    ]
  }
]
====
# two terms; the sort is stable (5 and 5.0 keep input order)
fixture: mixed
SELECT deviceId, status, tags.n FROM devices ORDER BY status DESC, tags.n
----
[
  {
    "deviceId": "m8",
    "status": "enabled"
  },
  {
    "deviceId": "m5",
    "status": "enabled",
    "n": 0
  },
  {
    "deviceId": "m4",
    "status": "enabled",
    "n": 2.5
  },
  {
    "deviceId": "m1",
    "Status": "enabled",
    "n": 5
  },
  {
    "deviceId": "m2",
    "status": "enabled",
    "n": 5.0
  },
  {
    "deviceId": "m9",
    "status": "enabled",
    "n": 7
  },
  {
    "deviceId": "m6",
    "status": "enabled",
    "n": 10
  },
  {
    "deviceId": "m10",
    "status": "enabled",
    "n": 100.0
  },
  {
    "deviceId": "m3",
    "status": "disabled",
    "n": -3
  },
  {
    "deviceId": "m7",
    "status": "disabled",
    "n": "7"
  }
]
====
# a bare name equal to an alias (ignoring case) means that element; ties keep input order in DESC too
fixture: mixed
SELECT deviceId AS id, tags.n AS value FROM devices ORDER BY VALUE DESC
----
[
  {
    "id": "m7",
    "value": "7"
  },
  {
    "id": "m10",
    "value": 100.0
  },
  {
    "id": "m6",
    "value": 10
  },
  {
    "id": "m9",
    "value": 7
  },
  {
    "id": "m1",
    "value": 5
  },
  {
    "id": "m2",
    "value": 5.0
  },
  {
    "id": "m4",
    "value": 2.5
  },
  {
    "id": "m5",
    "value": 0
  },
  {
    "id": "m3",
    "value": -3
  },
  {
    "id": "m8"
  }
]
====
# an alias shadows a twin member of the same name
fixture: twins
SELECT deviceId AS status FROM devices WHERE deviceId IN ['device3', 'device1', 'gw-1'] ORDER BY status DESC
----
[
  {
    "status": "gw-1"
  },
  {
    "status": "device3"
  },
  {
    "status": "device1"
  }
]
====
# the path spelled differently is not an alias: it sorts by the twin's status
fixture: twins
SELECT deviceId AS id FROM devices WHERE deviceId IN ['device3', 'device1', 'gw-1'] ORDER BY devices.status, id
----
[
  {
    "id": "device3"
  },
  {
    "id": "device1"
  },
  {
    "id": "gw-1"
  }
]
====
# TOP after ORDER BY
fixture: mixed
SELECT TOP 3 deviceId FROM devices ORDER BY tags.n DESC
----
[
  {
    "deviceId": "m7"
  },
  {
    "deviceId": "m10"
  },
  {
    "deviceId": "m6"
  }
]
====
# TOP without ORDER BY keeps input order
fixture: mixed
SELECT TOP 2 deviceId FROM devices
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m2"
  }
]
====
# TOP 0
fixture: mixed
SELECT TOP 0 deviceId FROM devices
----
[]
====
# TOP larger than the result
fixture: mixed
SELECT TOP 100 deviceId FROM devices WHERE tags.n > 50
----
[
  {
    "deviceId": "m10"
  }
]
====
# ISO 8601 dates compare and sort as strings
fixture: twins
SELECT deviceId, lastActivityTime FROM devices WHERE lastActivityTime > '2024-01-01' ORDER BY lastActivityTime DESC
----
[
  {
    "deviceId": "gw-1",
    "lastActivityTime": "2024-03-02T00:00:00Z"
  },
  {
    "deviceId": "device1",
    "lastActivityTime": "2024-03-01T10:00:00.1234567Z"
  },
  {
    "deviceId": "leaf-6",
    "lastActivityTime": "2024-02-20T00:00:00Z"
  },
  {
    "deviceId": "test-4",
    "lastActivityTime": "2024-02-01T00:00:00Z"
  },
  {
    "deviceId": "device3",
    "lastActivityTime": "2024-01-15T11:59:00Z"
  }
]
====
# ORDER BY an expression, then a tie-breaker; undefined sorts last in DESC
fixture: mixed
SELECT deviceId FROM devices ORDER BY LENGTH(tags.s) DESC, deviceId
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m7"
  },
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m3"
  },
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m10"
  },
  {
    "deviceId": "m5"
  },
  {
    "deviceId": "m8"
  }
]
====
# booleans: true before false in DESC; strings by bytes
fixture: twins
SELECT deviceId, capabilities.iotEdge AS edge FROM devices ORDER BY capabilities.iotEdge DESC, deviceId
----
[
  {
    "deviceId": "gw-1",
    "edge": true
  },
  {
    "deviceId": "device1",
    "edge": false
  },
  {
    "deviceId": "device2",
    "edge": false
  },
  {
    "deviceId": "device3",
    "edge": false
  },
  {
    "deviceId": "leaf-6",
    "edge": false
  },
  {
    "deviceId": "test-4",
    "edge": false
  },
  {
    "deviceId": "tmp-5",
    "edge": false
  }
]
====
# ORDER BY with SELECT *
fixture: twins
SELECT TOP 1 * FROM devices.modules ORDER BY version DESC
----
[
  {
    "deviceId": "gw-1",
    "moduleId": "$edgeAgent",
    "etag": "AAAAAAAAAAE=",
    "status": "enabled",
    "connectionState": "Connected",
    "version": 8,
    "properties": {
      "desired": {},
      "reported": {
        "status": "running",
        "lastDesiredStatus": {
          "code": 200
        }
      }
    }
  }
]
====
# ORDER BY a path that is not selected, and by an array element
fixture: mixed
SELECT deviceId FROM devices WHERE IS_DEFINED(tags.arr) ORDER BY tags.arr[0] DESC
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m3"
  },
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m2"
  }
]
====
# ASC can be written; the string "7" is not >= 7
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n >= 7 ORDER BY tags.n ASC
----
[
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m10"
  }
]
