# SELECT DeviceId gives the document's spelling, deviceId
fixture: mixed
SELECT DeviceId FROM devices WHERE deviceId = 'm9'
----
[
  {
    "deviceId": "m9"
  }
]
====
# the exact-case key wins over a key that differs only by case
fixture: mixed
SELECT DEVICEID FROM devices WHERE deviceId IN ['m1', 'm9']
----
[
  {
    "deviceId": "m1"
  },
  {
    "DEVICEID": "shadow"
  }
]
====
# otherwise the first key in document order that matches ignoring case (m1 has Mixed before mixed)
fixture: mixed
SELECT tags.mixed, tags.MIXED AS upper FROM devices WHERE deviceId IN ['m1', 'm2']
----
[
  {
    "mixed": "m",
    "upper": "M"
  },
  {
    "MIXED": "only-upper",
    "upper": "only-upper"
  }
]
====
# top-level members match ignoring case both in WHERE and in SELECT (m1 spells it Status)
fixture: mixed
SELECT status FROM devices WHERE STATUS = 'enabled' AND deviceId IN ['m1', 'm2', 'm3']
----
[
  {
    "Status": "enabled"
  },
  {
    "status": "enabled"
  }
]
====
# id is another name for deviceId, in SELECT and WHERE
fixture: mixed
SELECT id FROM devices WHERE id = 'm3'
----
[
  {
    "deviceId": "m3"
  }
]
====
# collection-qualified paths
fixture: mixed
SELECT devices.deviceId, devices.tags.tier FROM devices WHERE devices.id = 'm1'
----
[
  {
    "deviceId": "m1",
    "tier": "gold"
  }
]
====
# array elements; the key is the last named segment
fixture: mixed
SELECT tags.arr[1] FROM devices WHERE IS_ARRAY(tags.arr)
----
[
  {
    "arr": 20
  },
  {},
  {}
]
====
# a name after an index
fixture: mixed
SELECT tags.arr[0].v FROM devices WHERE IS_ARRAY(tags.arr)
----
[
  {},
  {
    "v": 1
  },
  {}
]
====
# an index past the end is undefined
fixture: twins
SELECT tags.roles[0], tags.roles[5] AS missing FROM devices WHERE deviceId = 'device1'
----
[
  {
    "roles": "reader"
  }
]
====
# a name does not step into an array, nor an index into an object
fixture: twins
SELECT deviceId FROM devices WHERE IS_DEFINED(tags.roles.length) OR IS_DEFINED(tags.location[0]) OR IS_DEFINED(deviceId.x)
----
[]
====
# $metadata and $version are ordinary members
fixture: twins
SELECT properties.reported.$metadata.battery.$lastUpdated, properties.desired.$version FROM devices
  WHERE IS_DEFINED(properties.reported.$metadata)
----
[
  {
    "$lastUpdated": "2024-02-29T08:00:00Z",
    "$version": 4
  }
]
====
# [[group]] and tags.group are the same path
fixture: twins
SELECT tags.[[group]].name AS g FROM devices WHERE IS_DEFINED(tags.group)
----
[
  {
    "g": "some_value"
  },
  {
    "g": "other"
  }
]
====
# [[...]] segments in SELECT keep the key as spelled in the document; they match ignoring case too
fixture: twins
SELECT deviceId, configurations.[[CHILLER-CFG]].status FROM devices WHERE IS_DEFINED(configurations)
----
[
  {
    "deviceId": "device1",
    "status": "Applied"
  },
  {
    "deviceId": "device2",
    "status": "Targeted"
  },
  {
    "deviceId": "gw-1",
    "status": "Applied"
  }
]
====
# configurations by id
fixture: twins
SELECT deviceId FROM devices WHERE configurations.[[edge-base]].status = 'Applied' OR configurations.[[chiller-cfg]].status = 'Targeted'
----
[
  {
    "deviceId": "device2"
  },
  {
    "deviceId": "gw-1"
  }
]
====
# whole objects can be selected
fixture: twins
SELECT deviceId, tags.location FROM devices WHERE tags.location.region = 'EU'
----
[
  {
    "deviceId": "device3",
    "location": {
      "region": "EU"
    }
  },
  {
    "deviceId": "leaf-6",
    "location": {
      "region": "EU"
    }
  }
]
====
# missing tags altogether: every tag path is undefined
fixture: twins
SELECT deviceId, tags FROM devices WHERE NOT IS_DEFINED(tags)
----
[
  {
    "deviceId": "test-4"
  }
]
====
# qualified paths in a module query
fixture: twins
SELECT devices.modules.moduleId, devices.deviceId FROM devices.modules WHERE devices.modules.properties.reported.status = 'running'
----
[
  {
    "moduleId": "$edgeAgent",
    "deviceId": "gw-1"
  },
  {
    "moduleId": "$edgeHub",
    "deviceId": "gw-1"
  }
]
====
# FROM devices never sees module twins
fixture: twins
SELECT deviceId FROM devices WHERE IS_DEFINED(moduleId) OR properties.reported.status = 'scanning'
----
[]
====
# FROM devices.modules sees only module twins
fixture: twins
SELECT deviceId, moduleId FROM devices.modules WHERE NOT STARTSWITH(moduleId, '$')
----
[
  {
    "deviceId": "device1",
    "moduleId": "sensor"
  },
  {
    "deviceId": "device2",
    "moduleId": "sensor"
  },
  {
    "deviceId": "device3",
    "moduleId": "sensor"
  }
]
====
# keywords after a dot are names
fixture: twins
SELECT tags.group.name AS name FROM devices WHERE tags.group.name != 'other'
----
[
  {
    "name": "some_value"
  }
]
