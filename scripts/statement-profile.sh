#!/usr/bin/env bash
# Where MariaDB's time goes while a command runs (not part of CI): the
# statement log is switched on for every statement, into the
# mysql.slow_log table, for as long as the command runs, then summed by
# statement shape (numbers folded to N). PER divides the totals, say by
# the sends of a load run, to give microseconds each. Needs the server's
# root account on 127.0.0.1 and restores the log settings it found.
#
#   PER=20000 scripts/statement-profile.sh /tmp/chatbench -clients 50 -rooms 1 -senders 50 -duration 12s ...
set -euo pipefail
mysql=(mysql -uroot -h127.0.0.1)
per=${PER:-1}
read -r was_on was_time was_output < <("${mysql[@]}" -N -e "SELECT @@slow_query_log, @@long_query_time, @@log_output")
restore() {
  "${mysql[@]}" -e "SET GLOBAL slow_query_log = $was_on; SET GLOBAL long_query_time = $was_time; SET GLOBAL log_output = '$was_output'"
}
trap restore EXIT
"${mysql[@]}" -e "SET GLOBAL slow_query_log = 0; SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.slow_log;
  SET GLOBAL long_query_time = 0; SET GLOBAL slow_query_log = 1"
"$@"
"${mysql[@]}" -e "SET GLOBAL slow_query_log = 0"
echo "statements, µs each of $per, rows examined, statement"
"${mysql[@]}" -N -e "SELECT COUNT(*), ROUND(SUM(TIME_TO_SEC(query_time)) * 1e6 / $per), SUM(rows_examined),
  LEFT(REGEXP_REPLACE(CONVERT(sql_text USING utf8mb4), '[0-9]+', 'N'), 80) AS shape
  FROM mysql.slow_log GROUP BY shape ORDER BY 2 DESC LIMIT 25"
