# IS_DEFINED is true for null too
fixture: mixed
SELECT deviceId FROM devices WHERE IS_DEFINED(tags.x)
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m3"
  },
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m5"
  },
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m7"
  },
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# NOT IS_DEFINED finds twins without the path
fixture: mixed
SELECT deviceId FROM devices WHERE NOT IS_DEFINED(tags.x)
----
[
  {
    "deviceId": "m8"
  }
]
====
# every type check on every kind of value; always true or false, false on undefined (m8)
fixture: mixed
SELECT deviceId, IS_ARRAY(tags.x) AS arr, IS_BOOL(tags.x) AS bool, IS_NULL(tags.x) AS nul, IS_NUMBER(tags.x) AS num,
  IS_OBJECT(tags.x) AS obj, IS_PRIMITIVE(tags.x) AS prim, IS_STRING(tags.x) AS str FROM devices
----
[
  {
    "deviceId": "m1",
    "arr": false,
    "bool": false,
    "nul": false,
    "num": false,
    "obj": false,
    "prim": true,
    "str": true
  },
  {
    "deviceId": "m2",
    "arr": false,
    "bool": false,
    "nul": false,
    "num": false,
    "obj": false,
    "prim": true,
    "str": true
  },
  {
    "deviceId": "m3",
    "arr": false,
    "bool": false,
    "nul": false,
    "num": true,
    "obj": false,
    "prim": true,
    "str": false
  },
  {
    "deviceId": "m4",
    "arr": false,
    "bool": true,
    "nul": false,
    "num": false,
    "obj": false,
    "prim": true,
    "str": false
  },
  {
    "deviceId": "m5",
    "arr": false,
    "bool": false,
    "nul": true,
    "num": false,
    "obj": false,
    "prim": true,
    "str": false
  },
  {
    "deviceId": "m6",
    "arr": false,
    "bool": false,
    "nul": false,
    "num": false,
    "obj": true,
    "prim": false,
    "str": false
  },
  {
    "deviceId": "m7",
    "arr": true,
    "bool": false,
    "nul": false,
    "num": false,
    "obj": false,
    "prim": false,
    "str": false
  },
  {
    "deviceId": "m8",
    "arr": false,
    "bool": false,
    "nul": false,
    "num": false,
    "obj": false,
    "prim": false,
    "str": false
  },
  {
    "deviceId": "m9",
    "arr": false,
    "bool": false,
    "nul": false,
    "num": false,
    "obj": false,
    "prim": true,
    "str": true
  },
  {
    "deviceId": "m10",
    "arr": false,
    "bool": false,
    "nul": false,
    "num": false,
    "obj": false,
    "prim": true,
    "str": true
  }
]
====
# NOT IS_STRING is true for undefined (IS_* are never undefined)
fixture: mixed
SELECT deviceId FROM devices WHERE NOT IS_STRING(tags.x) AND NOT IS_NUMBER(tags.x)
----
[
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m5"
  },
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m7"
  },
  {
    "deviceId": "m8"
  }
]
====
# STARTSWITH, ENDS_WITH, CONTAINS: case-sensitive, strings only
fixture: mixed
SELECT deviceId, STARTSWITH(tags.s, 'a') AS sw, ENDS_WITH(tags.s, 'c') AS ew, CONTAINS(tags.s, 'l') AS c FROM devices
----
[
  {
    "deviceId": "m1",
    "sw": false,
    "ew": false,
    "c": true
  },
  {
    "deviceId": "m2",
    "sw": false,
    "ew": false,
    "c": true
  },
  {
    "deviceId": "m3",
    "sw": false,
    "ew": false,
    "c": false
  },
  {
    "deviceId": "m4",
    "sw": true,
    "ew": true,
    "c": false
  },
  {
    "deviceId": "m5",
    "sw": false,
    "ew": false,
    "c": false
  },
  {
    "deviceId": "m6",
    "sw": true,
    "ew": true,
    "c": false
  },
  {
    "deviceId": "m7",
    "sw": false,
    "ew": false,
    "c": false
  },
  {
    "deviceId": "m8"
  },
  {
    "deviceId": "m9",
    "sw": false,
    "ew": false,
    "c": false
  },
  {
    "deviceId": "m10",
    "sw": false,
    "ew": false,
    "c": false
  }
]
====
# STARTS_WITH and ENDSWITH, and wrong types give undefined
fixture: mixed
SELECT STARTS_WITH(deviceId, 'm1') AS a, ENDSWITH(deviceId, '0') AS b, STARTSWITH(tags.n, '5') AS c,
  CONTAINS(tags.s, 5) AS d, startswith(tags.s, '') AS e FROM devices WHERE deviceId IN ['m1', 'm10']
----
[
  {
    "a": true,
    "b": false,
    "e": true
  },
  {
    "a": true,
    "b": true,
    "e": true
  }
]
====
# LOWER and UPPER use the Unicode mappings
fixture: mixed
SELECT deviceId, LOWER(tags.s) AS lo, UPPER(tags.s) AS up FROM devices WHERE deviceId IN ['m1', 'm2', 'm3', 'm8']
----
[
  {
    "deviceId": "m1",
    "lo": "hello world",
    "up": "HELLO WORLD"
  },
  {
    "deviceId": "m2",
    "lo": "héllo",
    "up": "HÉLLO"
  },
  {
    "deviceId": "m3",
    "lo": "école",
    "up": "ÉCOLE"
  },
  {
    "deviceId": "m8"
  }
]
====
# LOWER in a condition, function names in any case
fixture: mixed
select deviceId from devices where Is_Defined(tags.tier) and lower(tags.tier) = 'gold'
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m10"
  }
]
====
# LENGTH counts code points of strings (the string "7" too); undefined on arrays and numbers
fixture: mixed
SELECT deviceId, LENGTH(tags.s) AS len, LENGTH(tags.arr) AS alen, LENGTH(tags.n) AS nlen FROM devices WHERE deviceId IN ['m1', 'm2', 'm5', 'm7']
----
[
  {
    "deviceId": "m1",
    "len": 11
  },
  {
    "deviceId": "m2",
    "len": 5
  },
  {
    "deviceId": "m5",
    "len": 0
  },
  {
    "deviceId": "m7",
    "len": 10,
    "nlen": 1
  }
]
====
# CONCAT needs every argument to be a string; an undefined element leaves an empty object
fixture: mixed
SELECT CONCAT(deviceId, ':', tags.x) AS c FROM devices
----
[
  {
    "c": "m1:a"
  },
  {
    "c": "m2:b"
  },
  {},
  {},
  {},
  {},
  {},
  {},
  {
    "c": "m9:B"
  },
  {
    "c": "m10:"
  }
]
====
# SUBSTRING: 0-based, code points, clamped; a negative start eats into the length; a fractional position is a wrong type
fixture: mixed
SELECT SUBSTRING(tags.s, 1, 3) AS a, SUBSTRING(tags.s, 2) AS b, SUBSTRING(tags.s, -2, 4) AS c, SUBSTRING(tags.s, 9, 10) AS d,
  SUBSTRING(tags.s, 1, -1) AS e, SUBSTRING(tags.s, 0.5) AS f, SUBSTRING(tags.s, 50) AS g, SUBSTRING(tags.n, 0) AS h
  FROM devices WHERE deviceId IN ['m1', 'm2']
----
[
  {
    "a": "ell",
    "b": "llo World",
    "c": "He",
    "d": "ld",
    "e": "",
    "g": ""
  },
  {
    "a": "éll",
    "b": "llo",
    "c": "hé",
    "d": "",
    "e": "",
    "g": ""
  }
]
====
# INDEX_OF counts code points, -1 when absent, 0 for the empty string
fixture: mixed
SELECT INDEX_OF(tags.s, 'l') AS i, INDEX_OF(tags.s, 'zz') AS j, INDEX_OF(tags.s, '') AS k, INDEX_OF(tags.n, '5') AS l
  FROM devices WHERE deviceId IN ['m1', 'm2', 'm5']
----
[
  {
    "i": 2,
    "j": -1,
    "k": 0
  },
  {
    "i": 2,
    "j": -1,
    "k": 0
  },
  {
    "i": -1,
    "j": -1,
    "k": 0
  }
]
====
# ABS, CEILING, FLOOR, SIGN, SQUARE, SQRT; SQRT of a negative is undefined; the string "7" is not a number
fixture: mixed
SELECT tags.n AS n, ABS(tags.n) AS abs, CEILING(tags.n) AS ceil, FLOOR(tags.n) AS floor, SIGN(tags.n) AS sign,
  SQUARE(tags.n) AS sq, SQRT(tags.n) AS sqrt FROM devices WHERE deviceId IN ['m1', 'm3', 'm4', 'm5', 'm7']
----
[
  {
    "n": 5,
    "abs": 5,
    "ceil": 5,
    "floor": 5,
    "sign": 1,
    "sq": 25,
    "sqrt": 2.23606797749979
  },
  {
    "n": -3,
    "abs": 3,
    "ceil": -3,
    "floor": -3,
    "sign": -1,
    "sq": 9
  },
  {
    "n": 2.5,
    "abs": 2.5,
    "ceil": 3,
    "floor": 2,
    "sign": 1,
    "sq": 6.25,
    "sqrt": 1.5811388300841898
  },
  {
    "n": 0,
    "abs": 0,
    "ceil": 0,
    "floor": 0,
    "sign": 0,
    "sq": 0,
    "sqrt": 0
  },
  {
    "n": "7"
  }
]
====
# EXP and POWER; NaN and infinite results are undefined
fixture: mixed
SELECT EXP(0) AS a, EXP(1) AS b, POWER(2, 10) AS c, POWER(2, -1) AS d, POWER(-8, 0.5) AS e, POWER(10, 400) AS f,
  EXP(1000) AS g, POWER(tags.n, 2) AS h, FLOOR(-2.5) AS i, CEILING(-2.5) AS j, ABS(-0.5) AS k
  FROM devices WHERE deviceId = 'm4'
----
[
  {
    "a": 1,
    "b": 2.718281828459045,
    "c": 1024,
    "d": 0.5,
    "h": 6.25,
    "i": -3,
    "j": -2,
    "k": 0.5
  }
]
====
# AS_NUMBER: numbers as they are, strings in JSON number syntax, anything else undefined
fixture: mixed
SELECT deviceId, AS_NUMBER(tags.n) AS n, AS_NUMBER(tags.s) AS s FROM devices WHERE deviceId IN ['m2', 'm5', 'm7', 'm10']
----
[
  {
    "deviceId": "m2",
    "n": 5.0
  },
  {
    "deviceId": "m5",
    "n": 0
  },
  {
    "deviceId": "m7",
    "n": 7
  },
  {
    "deviceId": "m10",
    "n": 100.0,
    "s": 42
  }
]
====
# AS_NUMBER on literals: exponent, negative, '5.0' becomes 5; spaces, hex and booleans are not numbers
fixture: mixed
SELECT AS_NUMBER('1.5e3') AS a, AS_NUMBER('-0.25') AS b, AS_NUMBER(' 1') AS c, AS_NUMBER('0x10') AS d,
  AS_NUMBER('5.0') AS e, AS_NUMBER(true) AS f, AS_NUMBER('+1') AS g, AS_NUMBER('1e999') AS h FROM devices WHERE deviceId = 'm1'
----
[
  {
    "a": 1500,
    "b": -0.25,
    "e": 5
  }
]
====
# AS_NUMBER in a condition
fixture: mixed
SELECT deviceId FROM devices WHERE AS_NUMBER(tags.n) >= 7 OR AS_NUMBER(tags.s) = 42
----
[
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m7"
  },
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# ARRAY_CONTAINS on a tag array
fixture: twins
SELECT deviceId FROM devices WHERE ARRAY_CONTAINS(tags.roles, 'writer')
----
[
  {
    "deviceId": "device1"
  }
]
====
# ARRAY_CONTAINS on values of several types
fixture: mixed
SELECT deviceId, ARRAY_CONTAINS(tags.arr, 10.0) AS has10 FROM devices WHERE deviceId IN ['m1', 'm2', 'm3', 'm4']
----
[
  {
    "deviceId": "m1",
    "has10": true
  },
  {
    "deviceId": "m2",
    "has10": false
  },
  {
    "deviceId": "m3"
  },
  {
    "deviceId": "m4",
    "has10": false
  }
]
====
# ARRAY_CONTAINS over an array of strings
fixture: mixed
SELECT deviceId FROM devices WHERE ARRAY_CONTAINS(tags.x, 'b')
----
[
  {
    "deviceId": "m7"
  }
]
====
# functions nest
fixture: mixed
SELECT UPPER(SUBSTRING(CONCAT(deviceId, '-', LOWER(tags.s)), 0, 6)) AS a, LENGTH(CONCAT(tags.s, tags.s)) AS b FROM devices WHERE deviceId = 'm3'
----
[
  {
    "a": "M3-ÉCO",
    "b": 10
  }
]
====
# an unknown function is a query error (SPEC §2.5)
fixture: mixed
SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')
----
error: unknown function 'STARTWITH' (did you mean STARTSWITH?)
  |
1 | SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')
  |                             ^^^^^^^^^
