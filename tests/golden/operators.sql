# = on strings
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x = 'a'
----
[
  {
    "deviceId": "m1"
  }
]
====
# != matches only strings other than 'a': not the missing tags.x (m8), nor numbers, booleans, null, objects, arrays
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x != 'a'
----
[
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# <> is !=
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x <> 'a'
----
[
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# numbers compare numerically: 5 = 5.0
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n = 5
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
# > on numbers; the string "7" is not a number
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n > 5
----
[
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# >=
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n >= 5
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
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# <
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n < 0
----
[
  {
    "deviceId": "m3"
  }
]
====
# <=
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n <= 0
----
[
  {
    "deviceId": "m3"
  },
  {
    "deviceId": "m5"
  }
]
====
# strings compare by bytes: 'a' and 'b' sort after 'B'
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x > 'B'
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
# '' and 'B' are below 'a'
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x < 'a'
----
[
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# booleans: true > false
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x > false
----
[
  {
    "deviceId": "m4"
  }
]
====
# = true
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x = true
----
[
  {
    "deviceId": "m4"
  }
]
====
# null = null
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x = null
----
[
  {
    "deviceId": "m5"
  }
]
====
# null != null is false and everything else is another type: nothing matches
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x != null
----
[]
====
# null <= null is true, null < null false
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x <= null OR tags.x < null
----
[
  {
    "deviceId": "m5"
  }
]
====
# a number never equals a string: only the string "7"
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n = '7'
----
[
  {
    "deviceId": "m7"
  }
]
====
# x = x holds for every defined primitive (null included), never for objects, arrays, undefined
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x = tags.x
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
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# NOT over undefined stays undefined: same rows as !=
fixture: mixed
SELECT deviceId FROM devices WHERE NOT (tags.x = 'a')
----
[
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# NOT (x = false) is true only for the boolean true
fixture: mixed
SELECT deviceId FROM devices WHERE NOT (tags.x = false)
----
[
  {
    "deviceId": "m4"
  }
]
====
# a bare boolean path is a condition; only the JSON value true passes
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x
----
[
  {
    "deviceId": "m4"
  }
]
====
# literal conditions: true keeps all rows, 1 is not true
fixture: mixed
SELECT deviceId FROM devices WHERE true AND NOT (1 = 2) AND deviceId IN ['m1', 'm8']
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m8"
  }
]
====
# WHERE 1 keeps nothing (not exactly true)
fixture: mixed
SELECT deviceId FROM devices WHERE 1
----
[]
====
# OR: true if either side is true
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x = 'a' OR tags.n = 7
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m9"
  }
]
====
# AND with an undefined side: m4 (x is true) and m6 (x an object) give undefined, dropped
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n > 1 AND NOT (tags.x = 'a')
----
[
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# AND is false when either side is false, even if the other is undefined; NOT flips it
fixture: mixed
SELECT deviceId FROM devices WHERE NOT (tags.x = 'zzz' AND tags.n = 5)
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
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# OR with an undefined side is true when the other side is true
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x = 'zzz' OR NOT (tags.n = 5)
----
[
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
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# AND binds tighter than OR
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n = 5 OR tags.n = 7 AND tags.x = 'zzz'
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
# parentheses
fixture: mixed
SELECT deviceId FROM devices WHERE (tags.n = 5 OR tags.n = 7) AND tags.x = 'B'
----
[
  {
    "deviceId": "m9"
  }
]
====
# NOT binds looser than comparison
fixture: mixed
SELECT deviceId FROM devices WHERE NOT tags.n = 5 AND tags.n < 3
----
[
  {
    "deviceId": "m3"
  },
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m5"
  }
]
====
# IN with mixed constants
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x IN ['a', 'B', 1]
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m3"
  },
  {
    "deviceId": "m9"
  }
]
====
# NIN: defined primitives equal to none; never objects, arrays or undefined
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x NIN ['a', 'B', 1]
----
[
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m5"
  },
  {
    "deviceId": "m10"
  }
]
====
# NOT IN is NIN
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x NOT IN ['a', 'B', 1]
----
[
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m5"
  },
  {
    "deviceId": "m10"
  }
]
====
# NOT (x IN ...) is the same as NIN
fixture: mixed
SELECT deviceId FROM devices WHERE NOT (tags.x IN ['a', 'B', 1])
----
[
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m5"
  },
  {
    "deviceId": "m10"
  }
]
====
# IN compares numbers numerically: 5.0 is in [5, 7]; "7" is not
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n IN [5, 7]
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m9"
  }
]
====
# IN [null]
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x IN [null]
----
[
  {
    "deviceId": "m5"
  }
]
====
# NIN [null]
fixture: mixed
SELECT deviceId FROM devices WHERE tags.x NIN [null]
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
    "deviceId": "m9"
  },
  {
    "deviceId": "m10"
  }
]
====
# NIN on a path no twin has matches nothing
fixture: mixed
SELECT deviceId FROM devices WHERE tags.nope NIN ['a']
----
[]
====
# arithmetic on every row; non-numbers give undefined, so the keys are left out; 5.0 + 1 is the integer 6; -3 % 3 is 0
fixture: mixed
SELECT deviceId, tags.n + 1 AS plus, tags.n - 1 AS minus, tags.n * 2 AS times, tags.n / 2 AS half, tags.n % 3 AS mod FROM devices
----
[
  {
    "deviceId": "m1",
    "plus": 6,
    "minus": 4,
    "times": 10,
    "half": 2.5,
    "mod": 2
  },
  {
    "deviceId": "m2",
    "plus": 6,
    "minus": 4,
    "times": 10,
    "half": 2.5,
    "mod": 2
  },
  {
    "deviceId": "m3",
    "plus": -2,
    "minus": -4,
    "times": -6,
    "half": -1.5,
    "mod": 0
  },
  {
    "deviceId": "m4",
    "plus": 3.5,
    "minus": 1.5,
    "times": 5,
    "half": 1.25,
    "mod": 2.5
  },
  {
    "deviceId": "m5",
    "plus": 1,
    "minus": -1,
    "times": 0,
    "half": 0,
    "mod": 0
  },
  {
    "deviceId": "m6",
    "plus": 11,
    "minus": 9,
    "times": 20,
    "half": 5,
    "mod": 1
  },
  {
    "deviceId": "m7"
  },
  {
    "deviceId": "m8"
  },
  {
    "deviceId": "m9",
    "plus": 8,
    "minus": 6,
    "times": 14,
    "half": 3.5,
    "mod": 1
  },
  {
    "deviceId": "m10",
    "plus": 101,
    "minus": 99,
    "times": 200,
    "half": 50,
    "mod": 1
  }
]
====
# values read from the document keep their form (5.0, 100.0); computed ones are integers when integral (-0 is 0)
fixture: mixed
SELECT tags.n AS n, -tags.n AS neg FROM devices WHERE deviceId IN ['m2', 'm3', 'm5', 'm10']
----
[
  {
    "n": 5.0,
    "neg": -5
  },
  {
    "n": -3,
    "neg": 3
  },
  {
    "n": 0,
    "neg": 0
  },
  {
    "n": 100.0,
    "neg": -100
  }
]
====
# real division, % takes the sign of the dividend, division by zero and strings are undefined, precedence
fixture: mixed
SELECT 7 / 2 AS a, -7 % 3 AS b, 7 % -3 AS c, 1 / 0 AS d, 5 % 0 AS e, 'a' + 'b' AS f,
  2 * 3 + 4 AS g, 2 + 3 * 4 AS h, (2 + 3) * 4 AS i, 10 - 4 - 3 AS j, 0.1 + 0.2 AS k, 8 / 2 / 2 AS l
  FROM devices WHERE deviceId = 'm1'
----
[
  {
    "a": 3.5,
    "b": -1,
    "c": 1,
    "g": 10,
    "h": 14,
    "i": 20,
    "j": 3,
    "k": 0.30000000000000004,
    "l": 2
  }
]
====
# arithmetic on booleans, null and missing values is undefined
fixture: mixed
SELECT true + 1 AS a, null * 2 AS b, tags.nope - 1 AS c, -'x' AS d, 2.0 AS e, 1.5 AS f FROM devices WHERE deviceId = 'm1'
----
[
  {
    "e": 2,
    "f": 1.5
  }
]
====
# arithmetic in conditions
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n * 2 = 10 OR tags.n % 2 = 1
----
[
  {
    "deviceId": "m1"
  },
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m9"
  }
]
====
# numeric literals: hexadecimal, exponent, negative, trailing zeros
fixture: mixed
SELECT deviceId FROM devices WHERE tags.n = 0xA OR tags.n = 1e2 OR tags.n = -3 OR tags.n = 2.50
----
[
  {
    "deviceId": "m3"
  },
  {
    "deviceId": "m4"
  },
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m10"
  }
]
====
# string literals: double quotes, \u escapes, spaces kept
fixture: mixed
SELECT deviceId FROM devices WHERE tags.s = "a.b.c" OR tags.s = 'h\u00e9llo' OR tags.s = '  padded  '
----
[
  {
    "deviceId": "m2"
  },
  {
    "deviceId": "m6"
  },
  {
    "deviceId": "m7"
  }
]
====
# escapes inside strings
fixture: mixed
SELECT 'it\'s' AS a, "say \"hi\"" AS b, 'tab\there' AS c, 'back\\slash\/' AS d FROM devices WHERE deviceId = 'm1'
----
[
  {
    "a": "it's",
    "b": "say \"hi\"",
    "c": "tab\there",
    "d": "back\\slash/"
  }
]
====
# undefined is a literal; comparing with it is undefined
fixture: mixed
SELECT deviceId, undefined AS u FROM devices WHERE tags.x = undefined OR deviceId = 'm8'
----
[
  {
    "deviceId": "m8"
  }
]
