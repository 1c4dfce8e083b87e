# every twin
fixture: mixed
SELECT deviceId FROM devices WHERE deviceId = 'm1'
----
[
  {
    "deviceId": "m1"
  }
]
