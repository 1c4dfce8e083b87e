# 5 and 5.0 share a group (key from the first row); the undefined group has no key; descending count, then ascending key (undefined < numbers < strings)
fixture: mixed
SELECT tags.n, COUNT() AS c FROM devices GROUP BY tags.n
----
[
  {
    "n": 5,
    "c": 2
  },
  {
    "c": 1
  },
  {
    "n": -3,
    "c": 1
  },
  {
    "n": 0,
    "c": 1
  },
  {
    "n": 2.5,
    "c": 1
  },
  {
    "n": 7,
    "c": 1
  },
  {
    "n": 10,
    "c": 1
  },
  {
    "n": 100.0,
    "c": 1
  },
  {
    "n": "7",
    "c": 1
  }
]
====
# keys match ignoring case; each group's key spelling and value come from its first row (silver is first seen as TIER)
fixture: mixed
SELECT tags.tier, COUNT() AS c FROM devices GROUP BY tags.tier
----
[
  {
    "tier": "gold",
    "c": 4
  },
  {
    "c": 2
  },
  {
    "TIER": "silver",
    "c": 2
  },
  {
    "tier": null,
    "c": 1
  },
  {
    "tier": "bronze",
    "c": 1
  }
]
====
# the GROUP BY and select spellings need not agree with each other or with the data
fixture: mixed
SELECT tags.TIER, COUNT() FROM devices GROUP BY tags.Tier
----
[
  {
    "tier": "gold",
    "$1": 4
  },
  {
    "$1": 2
  },
  {
    "TIER": "silver",
    "$1": 2
  },
  {
    "tier": null,
    "$1": 1
  },
  {
    "tier": "bronze",
    "$1": 1
  }
]
====
# several keys: descending count, then the keys in order, each ascending (undefined first)
fixture: mixed
SELECT status, tags.tier, COUNT() AS c FROM devices GROUP BY status, tags.tier
----
[
  {
    "Status": "enabled",
    "tier": "gold",
    "c": 4
  },
  {
    "status": "disabled",
    "c": 1
  },
  {
    "status": "disabled",
    "TIER": "silver",
    "c": 1
  },
  {
    "status": "enabled",
    "c": 1
  },
  {
    "status": "enabled",
    "tier": null,
    "c": 1
  },
  {
    "status": "enabled",
    "tier": "bronze",
    "c": 1
  },
  {
    "status": "enabled",
    "tier": "silver",
    "c": 1
  }
]
====
# object keys group by deep equality: {"a":1,"b":2} and {"b":2,"a":1.0} are one group
fixture: mixed
SELECT tags.obj AS o, COUNT() AS c FROM devices GROUP BY tags.obj
----
[
  {
    "c": 7
  },
  {
    "o": {
      "a": 1,
      "b": 2
    },
    "c": 2
  },
  {
    "o": {
      "a": 2
    },
    "c": 1
  }
]
====
# array keys sort after every other key; among themselves by first appearance
fixture: mixed
SELECT tags.arr AS a, COUNT() AS c FROM devices GROUP BY tags.arr
----
[
  {
    "c": 6
  },
  {
    "a": "notarray",
    "c": 1
  },
  {
    "a": [
      10,
      20,
      30
    ],
    "c": 1
  },
  {
    "a": [
      {
        "v": 1
      }
    ],
    "c": 1
  },
  {
    "a": [],
    "c": 1
  }
]
====
# the first row decides the key's form: here 200.0 comes first
fixture: twins
SELECT properties.reported.lastDesiredStatus.code AS code, COUNT() AS n FROM devices.modules WHERE deviceId != 'device1'
  GROUP BY properties.reported.lastDesiredStatus.code
----
[
  {
    "code": 200.0,
    "n": 3
  },
  {
    "code": 500,
    "n": 1
  }
]
====
# and here 200
fixture: twins
SELECT properties.reported.lastDesiredStatus.code AS code, COUNT() AS n FROM devices.modules
  GROUP BY properties.reported.lastDesiredStatus.code
----
[
  {
    "code": 200,
    "n": 4
  },
  {
    "code": 500,
    "n": 1
  }
]
====
# aggregates per group; ORDER BY a select alias
fixture: twins
SELECT tags.tier AS tier, COUNT() AS n, AVG(properties.reported.battery) AS battery FROM devices
  GROUP BY tags.tier ORDER BY n DESC
----
[
  {
    "tier": "gold",
    "n": 4,
    "battery": 47.5
  },
  {
    "n": 2
  },
  {
    "tier": "silver",
    "n": 1,
    "battery": 45.5
  }
]
====
# ORDER BY a group key (undefined first)
fixture: twins
SELECT tags.tier AS tier, COUNT() AS n FROM devices GROUP BY tags.tier ORDER BY tags.tier
----
[
  {
    "n": 2
  },
  {
    "tier": "gold",
    "n": 4
  },
  {
    "tier": "silver",
    "n": 1
  }
]
====
# ORDER BY a group key descending (undefined last)
fixture: twins
SELECT tags.tier AS tier, COUNT() AS n FROM devices GROUP BY tags.tier ORDER BY tags.tier DESC
----
[
  {
    "tier": "silver",
    "n": 1
  },
  {
    "tier": "gold",
    "n": 4
  },
  {
    "n": 2
  }
]
====
# ORDER BY an aggregate that is not selected
fixture: twins
SELECT tags.location.region AS region FROM devices GROUP BY tags.location.region ORDER BY COUNT() ASC
----
[
  {},
  {
    "region": "EU"
  },
  {
    "region": "US"
  }
]
====
# ORDER BY COUNT() with ties: groups keep first-appearance order
fixture: twins
SELECT status, authenticationType, COUNT() AS n FROM devices GROUP BY status, authenticationType ORDER BY COUNT() DESC
----
[
  {
    "status": "enabled",
    "authenticationType": "sas",
    "n": 4
  },
  {
    "status": "enabled",
    "authenticationType": "selfSigned",
    "n": 1
  },
  {
    "status": "disabled",
    "authenticationType": "sas",
    "n": 1
  },
  {
    "status": "enabled",
    "authenticationType": "certificateAuthority",
    "n": 1
  }
]
====
# TOP after grouping
fixture: twins
SELECT TOP 2 tags.location.region AS region, COUNT() AS n FROM devices GROUP BY tags.location.region
----
[
  {
    "region": "US",
    "n": 4
  },
  {
    "region": "EU",
    "n": 2
  }
]
====
# the key need not be selected
fixture: twins
SELECT COUNT() AS n FROM devices GROUP BY status
----
[
  {
    "n": 6
  },
  {
    "n": 1
  }
]
====
# modules grouped by device; ties by ascending key
fixture: twins
SELECT deviceId, COUNT() AS modules FROM devices.modules GROUP BY deviceId
----
[
  {
    "deviceId": "gw-1",
    "modules": 2
  },
  {
    "deviceId": "device1",
    "modules": 1
  },
  {
    "deviceId": "device2",
    "modules": 1
  },
  {
    "deviceId": "device3",
    "modules": 1
  }
]
====
# qualified paths are the same key; strings by bytes ('$edgeAgent' < '$edgeHub')
fixture: twins
SELECT devices.modules.moduleId, COUNT() AS n FROM devices.modules GROUP BY moduleId
----
[
  {
    "moduleId": "sensor",
    "n": 3
  },
  {
    "moduleId": "$edgeAgent",
    "n": 1
  },
  {
    "moduleId": "$edgeHub",
    "n": 1
  }
]
====
# id is deviceId in GROUP BY too
fixture: twins
SELECT id, COUNT() AS n FROM devices.modules GROUP BY devices.id ORDER BY id DESC
----
[
  {
    "deviceId": "gw-1",
    "n": 2
  },
  {
    "deviceId": "device3",
    "n": 1
  },
  {
    "deviceId": "device2",
    "n": 1
  },
  {
    "deviceId": "device1",
    "n": 1
  }
]
====
# a grouped query over no rows returns no groups
fixture: twins
SELECT status, COUNT() AS n FROM devices WHERE false GROUP BY status
----
[]
====
# expressions over group keys and aggregates
fixture: mixed
SELECT LOWER(tags.tier) AS t, COUNT() * 10 AS n FROM devices GROUP BY tags.tier
----
[
  {
    "t": "gold",
    "n": 40
  },
  {
    "n": 20
  },
  {
    "t": "silver",
    "n": 20
  },
  {
    "n": 10
  },
  {
    "t": "bronze",
    "n": 10
  }
]
====
# SUM, MIN and MAX per group
fixture: mixed
SELECT status, SUM(tags.n) AS s, MIN(tags.x) AS lo, MAX(tags.x) AS hi FROM devices GROUP BY status
----
[
  {
    "Status": "enabled",
    "s": 129.5,
    "lo": null,
    "hi": "b"
  },
  {
    "status": "disabled",
    "s": -3,
    "lo": 1,
    "hi": 1
  }
]
====
# boolean keys; WHERE before grouping
fixture: twins
SELECT capabilities.iotEdge AS edge, COUNT() AS n FROM devices WHERE status = 'enabled' GROUP BY capabilities.iotEdge
----
[
  {
    "edge": false,
    "n": 5
  },
  {
    "edge": true,
    "n": 1
  }
]
====
# undefined group of an export (no connectionState at all)
fixture: export
SELECT connectionState, COUNT() AS n FROM devices GROUP BY connectionState
----
[
  {
    "n": 4
  }
]
====
# authenticationType derived from authentication.type; gw-1 had authentication null
fixture: export
SELECT authenticationType, COUNT() AS n FROM devices GROUP BY authenticationType
----
[
  {
    "n": 1
  },
  {
    "authenticationType": "certificateAuthority",
    "n": 1
  },
  {
    "authenticationType": "sas",
    "n": 1
  },
  {
    "authenticationType": "selfSigned",
    "n": 1
  }
]
