# module lines of an export, normalised (symmetricKey gone)
fixture: export
SELECT * FROM devices.modules
----
[
  {
    "deviceId": "thermo-01",
    "moduleId": "sensor",
    "etag": "AAAAAAAAAAI=",
    "deviceEtag": "Mg==",
    "status": "enabled",
    "authenticationType": "sas",
    "x509Thumbprint": {
      "primaryThumbprint": null,
      "secondaryThumbprint": null
    },
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
    "deviceId": "thermo-02",
    "moduleId": "sensor",
    "etag": "AAAAAAAAAAQ=",
    "deviceEtag": "NA==",
    "status": "enabled",
    "authenticationType": "sas",
    "properties": {
      "desired": {},
      "reported": {
        "status": "idle",
        "lastDesiredStatus": {
          "code": 400
        }
      }
    }
  },
  {
    "deviceId": "gw-1",
    "moduleId": "$edgeAgent",
    "etag": "AAAAAAAAAAY=",
    "deviceEtag": "Ng==",
    "status": "enabled",
    "authenticationType": "sas",
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
# connectionState is undefined in exports: != does not match either
fixture: export
SELECT deviceId FROM devices WHERE connectionState != 'Connected'
----
[]
====
# ... and NOT IS_DEFINED finds them all
fixture: export
SELECT deviceId FROM devices WHERE NOT IS_DEFINED(connectionState) AND NOT IS_DEFINED(lastActivityTime)
----
[
  {
    "deviceId": "thermo-01"
  },
  {
    "deviceId": "thermo-02"
  },
  {
    "deviceId": "gw-1"
  },
  {
    "deviceId": "child-1"
  }
]
====
# selecting fields an export lacks leaves them out
fixture: export
SELECT deviceId, connectionState, lastActivityTime, version, cloudToDeviceMessageCount FROM devices
----
[
  {
    "deviceId": "thermo-01"
  },
  {
    "deviceId": "thermo-02"
  },
  {
    "deviceId": "gw-1"
  },
  {
    "deviceId": "child-1"
  }
]
====
# counting disconnected devices of an export gives 0
fixture: export
SELECT COUNT() AS n FROM devices WHERE connectionState = 'Disconnected'
----
[
  {
    "n": 0
  }
]
====
# export names are gone after normalisation; eTag matches the twin member etag ignoring case
fixture: export
SELECT eTag AS e1, twinETag AS e2, authentication.type AS t, authentication.symmetricKey AS k, importMode AS m, etag, deviceEtag
  FROM devices WHERE id = 'thermo-02'
----
[
  {
    "e1": "AAAAAAAAAAM=",
    "etag": "AAAAAAAAAAM=",
    "deviceEtag": "Mw=="
  }
]
====
# x509Thumbprint comes from authentication.x509Thumbprint
fixture: export
SELECT deviceId, x509Thumbprint.primaryThumbprint AS p FROM devices WHERE IS_DEFINED(x509Thumbprint)
----
[
  {
    "deviceId": "thermo-01",
    "p": null
  },
  {
    "deviceId": "thermo-02",
    "p": "ABC123"
  }
]
====
# members the tables do not name are kept
fixture: export
SELECT deviceId, managedBy FROM devices WHERE IS_DEFINED(managedBy)
----
[
  {
    "deviceId": "thermo-01",
    "managedBy": "iotedge"
  }
]
====
# aliases are not visible in WHERE: there `code` is the twin's own (undefined) member
fixture: export
SELECT deviceId, moduleId, properties.reported.lastDesiredStatus.code AS code FROM devices.modules WHERE code != 200 OR moduleId = 'sensor'
----
[
  {
    "deviceId": "thermo-01",
    "moduleId": "sensor",
    "code": 200
  },
  {
    "deviceId": "thermo-02",
    "moduleId": "sensor",
    "code": 400
  }
]
====
# edge child in an export
fixture: export
SELECT deviceId, deviceScope, parentScopes FROM devices WHERE IS_DEFINED(parentScopes) OR capabilities.iotEdge
----
[
  {
    "deviceId": "gw-1",
    "deviceScope": "ms-azure-iot-edge://gw-1-63"
  },
  {
    "deviceId": "child-1",
    "deviceScope": "ms-azure-iot-edge://child-1-64",
    "parentScopes": [
      "ms-azure-iot-edge://gw-1-63"
    ]
  }
]
====
# the module lines share the device's id
fixture: export
SELECT deviceId, COUNT() AS n FROM devices.modules GROUP BY deviceId ORDER BY deviceId
----
[
  {
    "deviceId": "gw-1",
    "n": 1
  },
  {
    "deviceId": "thermo-01",
    "n": 1
  },
  {
    "deviceId": "thermo-02",
    "n": 1
  }
]
====
# statusReason is kept
fixture: export
SELECT deviceId, status, statusReason FROM devices WHERE status = 'disabled'
----
[
  {
    "deviceId": "thermo-02",
    "status": "disabled",
    "statusReason": "decommissioned"
  }
]
