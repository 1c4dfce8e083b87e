# two elements with the same key: the second is named by id -> deviceId
fixture: twins
SELECT deviceId, id FROM devices
----
error: two select elements are named 'deviceId': rename one with AS
  |
1 | SELECT deviceId, id FROM devices
  |                  ^^
====
# keys compare ignoring case
fixture: twins
SELECT tags.tier, TAGS.TIER FROM devices
----
error: two select elements are named 'TIER': rename one with AS
  |
1 | SELECT tags.tier, TAGS.TIER FROM devices
  |                   ^^^^^^^^^
====
# an alias against a path's key
fixture: twins
SELECT deviceId AS status, status FROM devices
----
error: two select elements are named 'status': rename one with AS
  |
1 | SELECT deviceId AS status, status FROM devices
  |                            ^^^^^^
====
# two aliases
fixture: twins
SELECT deviceId AS x, status AS X FROM devices
----
error: two select elements are named 'X': rename one with AS
  |
1 | SELECT deviceId AS x, status AS X FROM devices
  |                                 ^
====
# the same last segment from different paths
fixture: twins
SELECT tags.location.region, properties.reported.region FROM devices
----
error: two select elements are named 'region': rename one with AS
  |
1 | SELECT tags.location.region, properties.reported.region FROM devices
  |                              ^^^^^^^^^^^^^^^^^^^^^^^^^^
====
# array elements share their last named segment
fixture: twins
SELECT tags.roles[0], tags.roles[1] FROM devices
----
error: two select elements are named 'roles': rename one with AS
  |
1 | SELECT tags.roles[0], tags.roles[1] FROM devices
  |                       ^^^^^^^^^^^^^
====
# AS resolves the clash
fixture: twins
SELECT tags.roles[0] AS first, tags.roles[1] AS second FROM devices WHERE IS_DEFINED(tags.roles)
----
[
  {
    "first": "reader",
    "second": "writer"
  }
]
====
# aggregates and plain paths without GROUP BY
fixture: twins
SELECT deviceId, COUNT() FROM devices
----
error: cannot mix aggregates and plain paths without GROUP BY: 'deviceId' is not inside an aggregate
  |
1 | SELECT deviceId, COUNT() FROM devices
  |        ^^^^^^^^
====
# a path outside the aggregate in the same element
fixture: twins
SELECT COUNT() + version AS n FROM devices
----
error: cannot mix aggregates and plain paths without GROUP BY: 'version' is not inside an aggregate
  |
1 | SELECT COUNT() + version AS n FROM devices
  |                  ^^^^^^^
====
# a grouped query may select only group keys and aggregates
fixture: twins
SELECT status, COUNT() FROM devices GROUP BY tags.tier
----
error: 'status' is not a GROUP BY key: a grouped query may select only group keys and aggregates
  |
1 | SELECT status, COUNT() FROM devices GROUP BY tags.tier
  |        ^^^^^^
====
# ORDER BY in a grouped query must name a key, an aggregate or an alias
fixture: twins
SELECT tags.tier AS t, COUNT() AS n FROM devices GROUP BY tags.tier ORDER BY status
----
error: ORDER BY 'status' is not a GROUP BY key, an aggregate or a select alias
  |
1 | SELECT tags.tier AS t, COUNT() AS n FROM devices GROUP BY tags.tier ORDER BY status
  |                                                                              ^^^^^^
====
# ORDER BY a plain path in an aggregate query without GROUP BY
fixture: twins
SELECT COUNT() AS n FROM devices ORDER BY deviceId
----
error: cannot mix aggregates and plain paths without GROUP BY: 'deviceId' in ORDER BY is not inside an aggregate
  |
1 | SELECT COUNT() AS n FROM devices ORDER BY deviceId
  |                                           ^^^^^^^^
====
# an aggregate in ORDER BY of a query that does not aggregate
fixture: twins
SELECT deviceId FROM devices ORDER BY COUNT()
----
error: aggregates in ORDER BY need an aggregate query (GROUP BY, or aggregates in the select list)
  |
1 | SELECT deviceId FROM devices ORDER BY COUNT()
  |                                       ^^^^^^^
====
# SELECT * cannot be grouped
fixture: twins
SELECT * FROM devices GROUP BY status
----
error: SELECT * cannot be used with GROUP BY; select the group keys and aggregates
  |
1 | SELECT * FROM devices GROUP BY status
  |        ^
====
# errors come from the query alone, even when no twin would be read
fixture: empty
SELECT deviceId, MAX(version) FROM devices
----
error: cannot mix aggregates and plain paths without GROUP BY: 'deviceId' is not inside an aggregate
  |
1 | SELECT deviceId, MAX(version) FROM devices
  |        ^^^^^^^^
====
# the planner's errors on a later line of the query
fixture: twins
SELECT tags.tier,
       COUNT() AS n
  FROM devices
  GROUP BY tags.tier
  ORDER BY deviceId
----
error: ORDER BY 'deviceId' is not a GROUP BY key, an aggregate or a select alias
  |
5 |   ORDER BY deviceId
  |            ^^^^^^^^
====
# aggregates in WHERE (the parser's error)
fixture: twins
SELECT deviceId FROM devices WHERE COUNT() > 1
----
error: aggregate functions are not allowed in WHERE
  |
1 | SELECT deviceId FROM devices WHERE COUNT() > 1
  |                                    ^^^^^
====
# nested aggregates (the parser's error)
fixture: twins
SELECT SUM(COUNT()) FROM devices
----
error: aggregate functions cannot be nested (COUNT inside SUM)
  |
1 | SELECT SUM(COUNT()) FROM devices
  |            ^^^^^
====
# devices.jobs is out of scope (the parser's error)
fixture: twins
SELECT * FROM devices.jobs
----
error: devices.jobs is out of scope: jobs are not in device exports (query devices or devices.modules)
  |
1 | SELECT * FROM devices.jobs
  |               ^^^^^^^^^^^^
