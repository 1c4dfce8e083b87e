# SPEC §3: every twin, normalised from export names (secrets and importMode gone, twin key order)
fixture: export
SELECT * FROM devices
----
[
  {
    "deviceId": "thermo-01",
    "etag": "AAAAAAAAAAE=",
    "deviceEtag": "MQ==",
    "status": "enabled",
    "authenticationType": "sas",
    "x509Thumbprint": {
      "primaryThumbprint": null,
      "secondaryThumbprint": null
    },
    "tags": {
      "location": {
        "region": "US",
        "building": "B1"
      },
      "tier": "gold"
    },
    "properties": {
      "desired": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60
        }
      },
      "reported": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60,
          "status": "Success"
        },
        "connectivity": "wifi",
        "battery": 87
      }
    },
    "capabilities": {
      "iotEdge": false
    },
    "managedBy": "iotedge"
  },
  {
    "deviceId": "thermo-02",
    "etag": "AAAAAAAAAAM=",
    "deviceEtag": "Mw==",
    "status": "disabled",
    "statusReason": "decommissioned",
    "authenticationType": "selfSigned",
    "x509Thumbprint": {
      "primaryThumbprint": "ABC123",
      "secondaryThumbprint": null
    },
    "tags": {
      "location": {
        "region": "EU"
      },
      "tier": "silver"
    },
    "properties": {
      "desired": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 30
        }
      },
      "reported": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 30,
          "status": "Pending"
        },
        "connectivity": "wired",
        "battery": 12.5
      }
    },
    "capabilities": {
      "iotEdge": false
    }
  },
  {
    "deviceId": "gw-1",
    "etag": "AAAAAAAAAAU=",
    "deviceEtag": "NQ==",
    "status": "enabled",
    "tags": {
      "location": {
        "region": "US"
      }
    },
    "properties": {
      "desired": {},
      "reported": {}
    },
    "capabilities": {
      "iotEdge": true
    },
    "deviceScope": "ms-azure-iot-edge://gw-1-63"
  },
  {
    "deviceId": "child-1",
    "etag": "AAAAAAAAAAc=",
    "deviceEtag": "Nw==",
    "status": "enabled",
    "authenticationType": "certificateAuthority",
    "properties": {
      "desired": {},
      "reported": {
        "connectivity": "cellular"
      }
    },
    "capabilities": {
      "iotEdge": false
    },
    "deviceScope": "ms-azure-iot-edge://child-1-64",
    "parentScopes": [
      "ms-azure-iot-edge://gw-1-63"
    ]
  }
]
====
# SPEC §3: count of device twins (modules are not devices)
fixture: twins
SELECT COUNT() AS totalNumberOfDevices FROM devices
----
[
  {
    "totalNumberOfDevices": 7
  }
]
====
# SPEC §3: count on an export
fixture: export
SELECT COUNT() AS totalNumberOfDevices FROM devices
----
[
  {
    "totalNumberOfDevices": 4
  }
]
====
# SPEC §3: count on an empty hub is one object with 0
fixture: empty
SELECT COUNT() AS totalNumberOfDevices FROM devices
----
[
  {
    "totalNumberOfDevices": 0
  }
]
====
# SPEC §3: filter on a tag
fixture: export
SELECT * FROM devices WHERE tags.location.region = 'US'
----
[
  {
    "deviceId": "thermo-01",
    "etag": "AAAAAAAAAAE=",
    "deviceEtag": "MQ==",
    "status": "enabled",
    "authenticationType": "sas",
    "x509Thumbprint": {
      "primaryThumbprint": null,
      "secondaryThumbprint": null
    },
    "tags": {
      "location": {
        "region": "US",
        "building": "B1"
      },
      "tier": "gold"
    },
    "properties": {
      "desired": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60
        }
      },
      "reported": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60,
          "status": "Success"
        },
        "connectivity": "wifi",
        "battery": 87
      }
    },
    "capabilities": {
      "iotEdge": false
    },
    "managedBy": "iotedge"
  },
  {
    "deviceId": "gw-1",
    "etag": "AAAAAAAAAAU=",
    "deviceEtag": "NQ==",
    "status": "enabled",
    "tags": {
      "location": {
        "region": "US"
      }
    },
    "properties": {
      "desired": {},
      "reported": {}
    },
    "capabilities": {
      "iotEdge": true
    },
    "deviceScope": "ms-azure-iot-edge://gw-1-63"
  }
]
====
# SPEC §3: tag and reported property; device2's 30.0 is not >= 60, gw-1's frequency is undefined
fixture: twins
SELECT deviceId FROM devices WHERE tags.location.region = 'US'
  AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60
----
[
  {
    "deviceId": "device1"
  },
  {
    "deviceId": "tmp-5"
  }
]
====
# SPEC §3: the same with SELECT * (the twins come back exactly as stored)
fixture: twins
SELECT * FROM devices WHERE tags.location.region = 'US'
  AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60 AND deviceId = 'tmp-5'
----
[
  {
    "deviceId": "tmp-5",
    "etag": "AAAAAAAAAAU=",
    "status": "enabled",
    "connectionState": "Disconnected",
    "lastActivityTime": "0001-01-01T00:00:00Z",
    "authenticationType": "sas",
    "version": 3,
    "tags": {
      "tier": "gold",
      "location": {
        "region": "US"
      }
    },
    "properties": {
      "desired": {},
      "reported": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60,
          "status": "Success"
        },
        "connectivity": "wifi"
      }
    },
    "capabilities": {
      "iotEdge": false
    }
  }
]
====
# SPEC §3: IN over a reported property
fixture: export
SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']
----
[
  {
    "deviceId": "thermo-01",
    "etag": "AAAAAAAAAAE=",
    "deviceEtag": "MQ==",
    "status": "enabled",
    "authenticationType": "sas",
    "x509Thumbprint": {
      "primaryThumbprint": null,
      "secondaryThumbprint": null
    },
    "tags": {
      "location": {
        "region": "US",
        "building": "B1"
      },
      "tier": "gold"
    },
    "properties": {
      "desired": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60
        }
      },
      "reported": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60,
          "status": "Success"
        },
        "connectivity": "wifi",
        "battery": 87
      }
    },
    "capabilities": {
      "iotEdge": false
    },
    "managedBy": "iotedge"
  },
  {
    "deviceId": "thermo-02",
    "etag": "AAAAAAAAAAM=",
    "deviceEtag": "Mw==",
    "status": "disabled",
    "statusReason": "decommissioned",
    "authenticationType": "selfSigned",
    "x509Thumbprint": {
      "primaryThumbprint": "ABC123",
      "secondaryThumbprint": null
    },
    "tags": {
      "location": {
        "region": "EU"
      },
      "tier": "silver"
    },
    "properties": {
      "desired": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 30
        }
      },
      "reported": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 30,
          "status": "Pending"
        },
        "connectivity": "wired",
        "battery": 12.5
      }
    },
    "capabilities": {
      "iotEdge": false
    }
  }
]
====
# SPEC §3: IN on the twin fleet
fixture: twins
SELECT deviceId FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']
----
[
  {
    "deviceId": "device1"
  },
  {
    "deviceId": "device2"
  },
  {
    "deviceId": "tmp-5"
  },
  {
    "deviceId": "leaf-6"
  }
]
====
# SPEC §3: is_defined, lower case
fixture: export
SELECT * FROM devices WHERE is_defined(properties.reported.connectivity) AND deviceId = 'child-1'
----
[
  {
    "deviceId": "child-1",
    "etag": "AAAAAAAAAAc=",
    "deviceEtag": "Nw==",
    "status": "enabled",
    "authenticationType": "certificateAuthority",
    "properties": {
      "desired": {},
      "reported": {
        "connectivity": "cellular"
      }
    },
    "capabilities": {
      "iotEdge": false
    },
    "deviceScope": "ms-azure-iot-edge://child-1-64",
    "parentScopes": [
      "ms-azure-iot-edge://gw-1-63"
    ]
  }
]
====
# SPEC §3: is_defined
fixture: twins
SELECT deviceId FROM devices WHERE is_defined(properties.reported.connectivity)
----
[
  {
    "deviceId": "device1"
  },
  {
    "deviceId": "device2"
  },
  {
    "deviceId": "device3"
  },
  {
    "deviceId": "tmp-5"
  },
  {
    "deviceId": "leaf-6"
  }
]
====
# SPEC §3: group by; Success and undefined both count 3, undefined sorts first; the undefined group has no key
fixture: twins
SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices
  FROM devices GROUP BY properties.reported.telemetryConfig.status
----
[
  {
    "numberOfDevices": 3
  },
  {
    "status": "Success",
    "numberOfDevices": 3
  },
  {
    "status": "Pending",
    "numberOfDevices": 1
  }
]
====
# SPEC §3: output keys spelled as in the document, not as in the query
fixture: twins
SELECT DeviceId, LastActivityTime FROM devices
  WHERE status = 'enabled' AND connectionState = 'Disconnected'
----
[
  {
    "deviceId": "device2",
    "lastActivityTime": "2023-12-31T23:59:59Z"
  },
  {
    "deviceId": "tmp-5",
    "lastActivityTime": "0001-01-01T00:00:00Z"
  },
  {
    "deviceId": "leaf-6",
    "lastActivityTime": "2024-02-20T00:00:00Z"
  }
]
====
# SPEC §3 on an export: connectionState is undefined there, so nothing matches
fixture: export
SELECT DeviceId, LastActivityTime FROM devices
  WHERE status = 'enabled' AND connectionState = 'Disconnected'
----
[]
====
# SPEC §3: module twins
fixture: twins
SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning'
  AND deviceId IN ['device1', 'device2']
----
[
  {
    "deviceId": "device1",
    "moduleId": "sensor",
    "etag": "AAAAAAAAAAE=",
    "deviceEtag": "ODk2NzE=",
    "status": "enabled",
    "connectionState": "Connected",
    "version": 3,
    "properties": {
      "desired": {},
      "reported": {
        "status": "scanning",
        "lastDesiredStatus": {
          "code": 200
        }
      }
    }
  },
  {
    "deviceId": "device2",
    "moduleId": "sensor",
    "etag": "AAAAAAAAAAE=",
    "deviceEtag": "MTIzNDU=",
    "status": "enabled",
    "connectionState": "Disconnected",
    "version": 2,
    "properties": {
      "desired": {},
      "reported": {
        "status": "scanning",
        "lastDesiredStatus": {
          "code": 200.0
        }
      }
    }
  }
]
====
# SPEC §3: [[group]]
fixture: twins
SELECT * FROM devices WHERE tags.[[group]].name = 'some_value'
----
[
  {
    "deviceId": "device1",
    "etag": "AAAAAAAAAAc=",
    "deviceEtag": "ODk2NzE=",
    "status": "enabled",
    "statusUpdateTime": "0001-01-01T00:00:00Z",
    "connectionState": "Connected",
    "lastActivityTime": "2024-03-01T10:00:00.1234567Z",
    "cloudToDeviceMessageCount": 0,
    "authenticationType": "sas",
    "x509Thumbprint": {
      "primaryThumbprint": null,
      "secondaryThumbprint": null
    },
    "modelId": "dtmi:com:example:Thermostat;1",
    "version": 7,
    "tags": {
      "location": {
        "region": "US",
        "plant": "Redmond43"
      },
      "group": {
        "name": "some_value"
      },
      "tier": "gold",
      "roles": [
        "reader",
        "writer"
      ]
    },
    "properties": {
      "desired": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60
        },
        "$version": 4
      },
      "reported": {
        "telemetryConfig": {
          "sendFrequencyInSecs": 60,
          "status": "Success"
        },
        "connectivity": "wifi",
        "battery": 90,
        "$metadata": {
          "$lastUpdated": "2024-03-01T10:00:00Z",
          "battery": {
            "$lastUpdated": "2024-02-29T08:00:00Z"
          }
        },
        "$version": 12
      }
    },
    "configurations": {
      "chiller-cfg": {
        "status": "Applied"
      }
    },
    "capabilities": {
      "iotEdge": false
    }
  }
]
====
# SPEC §3: edge devices
fixture: twins
select deviceId from devices where capabilities.iotEdge = true
----
[
  {
    "deviceId": "gw-1"
  }
]
====
# SPEC §3: edge devices in an export
fixture: export
select deviceId from devices where capabilities.iotEdge = true
----
[
  {
    "deviceId": "gw-1"
  }
]
====
# SPEC §3: children of an edge gateway
fixture: twins
select deviceId from devices where array_contains(parentScopes, 'ms-azure-iot-edge://gw-1-63')
----
[
  {
    "deviceId": "leaf-6"
  }
]
====
# SPEC §3: children of an edge gateway in an export
fixture: export
select deviceId from devices where array_contains(parentScopes, 'ms-azure-iot-edge://gw-1-63')
----
[
  {
    "deviceId": "child-1"
  }
]
====
# SPEC §3: NOT STARTSWITH
fixture: twins
select deviceId from devices where not startswith(deviceId, 'test-') and not startswith(deviceId, 'tmp-')
----
[
  {
    "deviceId": "device1"
  },
  {
    "deviceId": "device2"
  },
  {
    "deviceId": "device3"
  },
  {
    "deviceId": "gw-1"
  },
  {
    "deviceId": "leaf-6"
  }
]
====
# SPEC §3: configurations with [[chiller-cfg]]
fixture: twins
SELECT deviceId FROM devices WHERE configurations.[[chiller-cfg]].status = 'Applied'
----
[
  {
    "deviceId": "device1"
  },
  {
    "deviceId": "gw-1"
  }
]
====
# SPEC §3: modules by reported code; 200.0 = 200
fixture: twins
SELECT deviceId, moduleId FROM devices.modules WHERE properties.reported.lastDesiredStatus.code = 200
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
    "deviceId": "gw-1",
    "moduleId": "$edgeAgent"
  },
  {
    "deviceId": "gw-1",
    "moduleId": "$edgeHub"
  }
]
====
# SPEC §3: modules by reported code in an export
fixture: export
SELECT deviceId, moduleId FROM devices.modules WHERE properties.reported.lastDesiredStatus.code = 200
----
[
  {
    "deviceId": "thermo-01",
    "moduleId": "sensor"
  },
  {
    "deviceId": "gw-1",
    "moduleId": "$edgeAgent"
  }
]
