#!/usr/bin/env python3
"""Writes the Grafana dashboards in dashboards/ (JSON, schemaVersion 39, for provisioning).

The JSON files are what Grafana loads and what the end-to-end test checks against a real
Prometheus; this script is how they are kept consistent (one datasource uid, unique panel
ids, the same variables everywhere). Run it after changing a panel: python3 grafana/dashboards.py
"""

import json
import os
import re

# Every panel queries the dashboard's datasource variable, so an operator whose Prometheus has
# another uid (or who runs several) picks it at the top; it defaults to the provisioned one.
PROVISIONED_UID = "chargegrid-prometheus"
DS = {"type": "prometheus", "uid": "${datasource}"}
HERE = os.path.dirname(os.path.abspath(__file__))


# Every chargegrid metric in a panel is narrowed to the chosen Prometheus job and instances
# (several chargegrid deployments, or one process of many, on one Prometheus).
SCOPE = 'job=~"$job",instance=~"$instance"'


def scoped(expr):
    """The expression with the job and instance matchers added to every chargegrid metric."""
    def add(m):
        name, brace = m.group(1), m.group(2)
        return f"{name}{{{SCOPE}," if brace else f"{name}{{{SCOPE}}}"
    return re.sub(r"\b(chargegrid_[A-Za-z0-9_]+)(\{)?", add, expr)


def variables(*names):
    known = {
        "site": ("Site", "label_values(chargegrid_site_info, site)"),
        "ocpp_version": ("OCPP version", "label_values(chargegrid_ocpp_connections_opened_total, ocpp_version)"),
    }
    out = [{
        "name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
        "current": {"selected": True, "text": PROVISIONED_UID, "value": PROVISIONED_UID},
        "refresh": 1, "hide": 0,
    }]
    for n, label, query in [
        ("job", "Job", "label_values(chargegrid_build_info, job)"),
        ("instance", "Instance", 'label_values(chargegrid_build_info{job=~"$job"}, instance)'),
    ]:
        out.append({
            "name": n, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": f"var-{n}"}, "definition": query,
            "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        })
    for n in names:
        label, query = known[n]
        out.append({
            "name": n, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": f"var-{n}"}, "definition": query,
            "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        })
    return out


class Board:
    def __init__(self, uid, title, description, vars_):
        self.uid, self.title, self.description, self.vars = uid, title, description, vars_
        self.panels, self.y, self.x, self.next_id, self.row_h = [], 0, 0, 1, 0
        self.annotations = []

    def panel(self, title, kind, exprs, unit="short", w=12, h=8, description="", stack=False, legend=None, extra=None):
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        targets = []
        for i, e in enumerate(exprs):
            expr, fmt = e if isinstance(e, tuple) else (e, None)
            expr = scoped(expr)
            t = {"datasource": DS, "expr": expr, "refId": chr(65 + i)}
            if fmt:
                t["legendFormat"] = fmt
            targets.append(t)
        p = {
            "id": self.next_id, "type": kind, "title": title, "description": description, "datasource": DS,
            "gridPos": {"x": self.x, "y": self.y, "w": w, "h": h}, "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {},
        }
        if kind == "timeseries":
            p["fieldConfig"]["defaults"]["custom"] = {"stacking": {"mode": "normal" if stack else "none"}, "fillOpacity": 20 if stack else 5}
            p["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}, "tooltip": {"mode": "multi"}}
        if kind == "stat":
            p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "area"}
        if extra:
            p.update(extra)
        self.panels.append(p)
        self.next_id += 1
        self.x += w
        self.row_h = max(self.row_h, h)

    def annotation(self, name, expr):
        self.annotations.append({"name": name, "datasource": DS, "enable": True, "expr": scoped(expr),
                                 "iconColor": "orange", "titleFormat": name, "step": "30s"})

    def write(self):
        doc = {
            "uid": self.uid, "title": self.title, "description": self.description, "tags": ["chargegrid"],
            "schemaVersion": 39, "version": 1, "editable": True, "time": {"from": "now-6h", "to": "now"},
            "refresh": "30s", "timezone": "utc", "templating": {"list": variables(*self.vars)},
            "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                      "enable": True, "hide": True, "name": "Annotations & Alerts", "type": "dashboard"}]
                            + self.annotations},
            "panels": self.panels,
        }
        with open(os.path.join(HERE, "dashboards", f"{self.uid}.json"), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")


S = 'site=~"$site"'
V = 'ocpp_version=~"$ocpp_version"'

# Network overview
b = Board("chargegrid-network", "chargegrid / Network overview", "Chargers online, sessions, energy, power against limits, and the map of stations.", ["site", "ocpp_version"])
b.panel("Chargers online", "stat", [f"sum(chargegrid_ocpp_connected_chargers{{{V}}}) or vector(0)"], w=6, h=5)
b.panel("Charging sessions", "stat", [f"sum(chargegrid_sessions_active{{{S}}}) or vector(0)"], w=6, h=5)
b.panel("Energy delivered today", "stat", [f"sum(increase(chargegrid_energy_delivered_joules_total{{{S}}}[$__range])) / 3.6e6 or vector(0)"], unit="kwatth", w=6, h=5,
        description="Since midnight (the dashboard's time zone, UTC): the panel's own time range is today so far.",
        extra={"timeFrom": "now/d"})
b.panel("Power drawn / site limits", "stat", [f"sum(chargegrid_scheduler_site_drawn_watts{{{S}}}) / sum(chargegrid_scheduler_site_limit_watts{{{S}}})"], unit="percentunit", w=6, h=5)
b.panel("Power drawn vs limits", "timeseries", [(f"sum(chargegrid_scheduler_site_drawn_watts{{{S}}})", "drawn"), (f"sum(chargegrid_scheduler_site_allocated_watts{{{S}}})", "allocated"), (f"sum(chargegrid_scheduler_site_limit_watts{{{S}}})", "limit")], unit="watt")
b.panel("Connectors by status", "timeseries", [("sum by (status) (chargegrid_connectors)", "{{status}}")], stack=True)
b.panel("Stations by utilisation", "geomap", [(f"max by (site, name, lat, lon) (chargegrid_site_info{{{S}}}) * on (site) group_left() (max by (site) (chargegrid_scheduler_site_drawn_watts) / max by (site) (chargegrid_scheduler_site_limit_watts))", "{{name}}")],
        unit="percentunit", w=24, h=12, description="Each station at its coordinates, coloured by power drawn over its limit.",
        extra={"options": {"view": {"id": "fit", "allLayers": True, "padding": 10, "lat": 0, "lon": 0, "zoom": 1},
                           "layers": [{"type": "markers", "name": "stations", "location": {"mode": "coords", "latitude": "lat", "longitude": "lon"},
                                       "config": {"color": {"field": "Value", "fixed": "green"}, "size": {"fixed": 8}}}]},
               "fieldConfig": {"defaults": {"unit": "percentunit", "thresholds": {"mode": "absolute", "steps": [
                   {"color": "green", "value": None}, {"color": "orange", "value": 0.8}, {"color": "red", "value": 0.95}]}}, "overrides": []},
               "transformations": [{"id": "labelsToFields", "options": {"mode": "columns"}}, {"id": "convertFieldType", "options": {"conversions": [
                   {"targetField": "lat", "destinationType": "number"}, {"targetField": "lon", "destinationType": "number"}]}}]})
b.write()

# Site power
b = Board("chargegrid-site-power", "chargegrid / Site power", "Per-site power drawn, allocated and the limit; demand-response windows as annotations.", ["site"])
b.annotation("Demand-response window", f"max by (site) (chargegrid_site_limit_window_active{{{S}}}) == 1")
b.panel("Power drawn by site", "timeseries", [(f"sum by (site) (chargegrid_scheduler_site_drawn_watts{{{S}}})", "{{site}}")], unit="watt", stack=True, w=24)
b.panel("Drawn vs allocated vs limit", "timeseries", [(f"sum by (site) (chargegrid_scheduler_site_drawn_watts{{{S}}})", "{{site}} drawn"), (f"sum by (site) (chargegrid_scheduler_site_allocated_watts{{{S}}})", "{{site}} allocated"), (f"sum by (site) (chargegrid_scheduler_site_limit_watts{{{S}}})", "{{site}} limit")], unit="watt")
b.panel("Headroom", "timeseries", [(f"sum by (site) (chargegrid_scheduler_site_headroom_watts{{{S}}})", "{{site}}")], unit="watt")
b.panel("Sessions scheduled", "timeseries", [(f"sum by (site) (chargegrid_scheduler_sessions_scheduled{{{S}}})", "{{site}}")])
b.panel("Energy delivered per hour", "timeseries", [(f"sum by (site) (increase(chargegrid_energy_delivered_joules_total{{{S}}}[1h])) / 3.6e6 or vector(0)", "{{site}}")], unit="kwatth")
b.panel("Month's demand peak (billed)", "timeseries", [(f"max by (site) (chargegrid_scheduler_site_month_peak_watts{{{S}}})", "{{site}}")], unit="watt",
        description="The highest 15-minute average power of the billing month so far, for sites whose supply contract has a demand charge (docs/configuration.md, Supply prices); empty for others.")
b.panel("Drivers' stated energy, as planned", "timeseries", [(f"max by (site) (chargegrid_scheduler_statement_correction{{{S}}})", "{{site}}")], unit="percentunit",
        description="The share of a driver's stated energy the scheduler plans for: the median of delivered / stated over the site's latest 200 sessions whose car had stopped drawing (docs/api.md, PUT /sessions/{id}/needs). Empty until 20 such sessions have ended. A vehicle's own figure is taken as stated.")
b.panel("Energy expected to arrive (next 24 h)", "timeseries", [(f"max by (site) (chargegrid_scheduler_arrivals_expected_wh{{{S}}})", "{{site}}")], unit="watth",
        description="What the site's habit of arrivals (mean energy per quarter-hour of earlier weekdays or weekends, 28 days back) expects the vehicles not yet plugged in to take over the next 24 hours; the scheduler leaves room for it before holding charging for cheaper supply (docs/configuration.md, Supply prices). Sites with a supply contract only; 0 until a day is on record.")
b.write()

# OCPP gateway
b = Board("chargegrid-ocpp", "chargegrid / OCPP gateway", "Messages by action, errors, latency, connections, and the store under the gateway.", ["ocpp_version"])
b.panel("CALLs received by action", "timeseries", [(f"sum by (action) (rate(chargegrid_ocpp_calls_received_total{{{V}}}[$__rate_interval]))", "{{action}}")], unit="reqps")
b.panel("CALLERRORs sent by code", "timeseries", [(f"sum by (code) (rate(chargegrid_ocpp_call_errors_sent_total{{{V}}}[$__rate_interval])) or vector(0)", "{{code}}")], unit="reqps")
b.panel("Handling latency p50 / p99", "timeseries", [("histogram_quantile(0.5, sum by (le) (rate(chargegrid_ocpp_call_handling_seconds_bucket[$__rate_interval])))", "p50"), ("histogram_quantile(0.99, sum by (le) (rate(chargegrid_ocpp_call_handling_seconds_bucket[$__rate_interval])))", "p99")], unit="s")
b.panel("Connected chargers", "timeseries", [(f"sum by (ocpp_version) (chargegrid_ocpp_connected_chargers{{{V}}})", "{{ocpp_version}}")])
b.panel("Connections closed by reason", "timeseries", [("sum by (reason) (rate(chargegrid_ocpp_connections_closed_total[$__rate_interval])) or vector(0)", "{{reason}}")], unit="cps")
b.panel("CALLs sent by outcome", "timeseries", [(f"sum by (outcome) (rate(chargegrid_ocpp_calls_sent_total{{{V}}}[$__rate_interval])) or vector(0)", "{{outcome}}")], unit="reqps")
b.panel("Outstanding calls / timeouts", "timeseries", [("sum(chargegrid_ocpp_outstanding_calls)", "outstanding"), (f"sum(rate(chargegrid_ocpp_calls_sent_total{{outcome=\"timeout\",{V}}}[$__rate_interval])) or vector(0)", "timeouts/s")])
b.panel("Frames rejected / duplicates", "timeseries", [("sum by (reason) (rate(chargegrid_ocpp_frames_rejected_total[$__rate_interval])) or vector(0)", "{{reason}}"), (f"sum(rate(chargegrid_ocpp_calls_received_total{{outcome=\"duplicate\",{V}}}[$__rate_interval])) or vector(0)", "duplicate ids")], unit="reqps")
b.panel("Handshakes refused", "timeseries", [("sum by (reason) (rate(chargegrid_ocpp_handshakes_refused_total[$__rate_interval])) or vector(0)", "{{reason}}")], unit="cps")
b.panel("Meter data by session match", "timeseries", [("sum by (match) (rate(chargegrid_ocpp_meter_messages_total[$__rate_interval]))", "{{match}}")], unit="reqps")
b.panel("Redis command latency p99", "timeseries", [("histogram_quantile(0.99, sum by (le, command) (rate(chargegrid_store_redis_command_duration_seconds_bucket[$__rate_interval])))", "{{command}}")], unit="s", description="Empty on the memory store.")
b.panel("Redis errors / retries, command-bus lag p99", "timeseries", [("sum(rate(chargegrid_store_redis_errors_total[$__rate_interval])) or vector(0)", "errors/s"), ("sum(rate(chargegrid_store_redis_retries_total[$__rate_interval])) or vector(0)", "retries/s"), ("histogram_quantile(0.99, sum by (le) (rate(chargegrid_store_command_bus_lag_seconds_bucket[$__rate_interval]))) or vector(0)", "bus lag p99 (s)")])
b.panel("API requests by route and status", "timeseries", [("sum by (route, status) (rate(chargegrid_api_requests_total[$__rate_interval]))", "{{route}} {{status}}")], unit="reqps", w=24)
b.write()

# Scheduler
b = Board("chargegrid-scheduler", "chargegrid / Scheduler", "Allocation latency, re-allocations, profiles sent and rejected, leadership.", ["site"])
b.panel("Allocation latency p50 / p99", "timeseries", [("histogram_quantile(0.5, sum by (le) (rate(chargegrid_scheduler_allocation_seconds_bucket[$__rate_interval])))", "p50"), ("histogram_quantile(0.99, sum by (le) (rate(chargegrid_scheduler_allocation_seconds_bucket[$__rate_interval])))", "p99")], unit="s")
b.panel("Pass duration p99 by trigger", "timeseries", [("histogram_quantile(0.99, sum by (le, trigger) (rate(chargegrid_scheduler_pass_seconds_bucket[$__rate_interval])))", "{{trigger}}")], unit="s")
b.panel("Re-allocations", "timeseries", [(f"sum by (trigger) (rate(chargegrid_scheduler_reallocations_total{{{S}}}[$__rate_interval]))", "{{trigger}}")], unit="ops")
b.panel("Profiles sent by outcome", "timeseries", [(f"sum by (outcome) (rate(chargegrid_scheduler_profiles_sent_total{{{S}}}[$__rate_interval]))", "{{outcome}}")], unit="ops")
b.panel("Profiles rejected / ignored / mismatched", "timeseries", [(f"sum(rate(chargegrid_scheduler_profiles_sent_total{{outcome!=\"accepted\",{S}}}[$__rate_interval])) or vector(0)", "not accepted"), (f"sum(rate(chargegrid_scheduler_profiles_ignored_total{{{S}}}[$__rate_interval])) or vector(0)", "ignored"), (f"sum(rate(chargegrid_scheduler_readback_mismatches_total{{{S}}}[$__rate_interval])) or vector(0)", "read-back mismatch")], unit="ops")
b.panel("Leader per site / chargers excluded", "timeseries", [(f"sum by (site) (chargegrid_scheduler_leader{{{S}}})", "{{site}} leader"), (f"sum by (site) (chargegrid_scheduler_chargers_excluded{{{S}}})", "{{site}} excluded")])
b.panel("Limit headroom", "timeseries", [(f"sum by (site) (chargegrid_scheduler_site_headroom_watts{{{S}}})", "{{site}}")], unit="watt", w=24)
b.write()

# Fleet health
b = Board("chargegrid-health", "chargegrid / Fleet health", "Vehicles by state-of-health band and alerts, from charging data (estimates, not certificates).", [])
b.panel("Vehicles by SoH band", "bargauge", [("sum by (soh_band) (chargegrid_health_vehicles)", "{{soh_band}}")])
b.panel("Alerts by kind and severity", "timeseries", [("sum by (kind, severity) (increase(chargegrid_health_alerts_total[1h])) or vector(0)", "{{kind}} {{severity}}")])
b.panel("Reports computed", "timeseries", [("sum(rate(chargegrid_health_reports_total[$__rate_interval]))", "reports/s")], unit="ops")
b.panel("Sessions analysed", "timeseries", [("sum by (outcome) (rate(chargegrid_health_sessions_total[$__rate_interval]))", "{{outcome}}")], unit="ops")
b.write()
