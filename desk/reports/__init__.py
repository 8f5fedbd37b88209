"""SLA reports for managers: compliance, backlog, times, trends, drill-down, exports, digest."""
