"""An OCPP 2.0.1 charging station built on the Python `ocpp` package (schema validation on).

Independent of chargegrid's code: the 2.0.1 interoperability peer of the end-to-end tests. It
boots, reports status, authorizes, starts a transaction with TransactionEvent, tells the CSMS
the EV's charging needs (ISO 15118), then waits for a line on stdin (so the test can look at
the scheduler's inputs), sends Updated and Ended events, and answers every CSMS call until its
stdin closes. Everything it sees is printed as one JSON object per line.

usage: cp201.py WS_URL STATION_ID ID_TOKEN TRANSACTION_ID
"""

import asyncio
import json
import sys
from datetime import datetime, timedelta, timezone

import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint as Cp
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def now(offset_s=0):
    t = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return t.isoformat().replace("+00:00", "Z")


async def read_line():
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


class Station(Cp):
    def seen(self, action, payload):
        emit("received", action=action, payload=payload)

    @on(Action.request_start_transaction)
    def request_start(self, **kw):
        self.seen("RequestStartTransaction", kw)
        return call_result.RequestStartTransaction(status="Accepted")

    @on(Action.request_stop_transaction)
    def request_stop(self, **kw):
        self.seen("RequestStopTransaction", kw)
        return call_result.RequestStopTransaction(status="Accepted")

    @on(Action.set_charging_profile)
    def set_profile(self, **kw):
        self.seen("SetChargingProfile", kw)
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def clear_profile(self, **kw):
        self.seen("ClearChargingProfile", kw)
        return call_result.ClearChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    def composite(self, **kw):
        self.seen("GetCompositeSchedule", kw)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": kw["evse_id"],
                "duration": kw["duration"],
                "schedule_start": now(),
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
            },
        )

    @on(Action.get_variables)
    def get_variables(self, **kw):
        self.seen("GetVariables", kw)
        return call_result.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "attribute_value": "300",
                    "component": v["component"],
                    "variable": v["variable"],
                }
                for v in kw["get_variable_data"]
            ]
        )

    @on(Action.set_variables)
    def set_variables(self, **kw):
        self.seen("SetVariables", kw)
        return call_result.SetVariables(
            set_variable_result=[
                {"attribute_status": "Accepted", "component": v["component"], "variable": v["variable"]}
                for v in kw["set_variable_data"]
            ]
        )

    @on(Action.get_base_report)
    def base_report(self, **kw):
        self.seen("GetBaseReport", kw)
        return call_result.GetBaseReport(status="Accepted")

    @on(Action.reset)
    def reset(self, **kw):
        self.seen("Reset", kw)
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def change_availability(self, **kw):
        self.seen("ChangeAvailability", kw)
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.unlock_connector)
    def unlock(self, **kw):
        self.seen("UnlockConnector", kw)
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.trigger_message)
    def trigger(self, **kw):
        self.seen("TriggerMessage", kw)
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.reserve_now)
    def reserve(self, **kw):
        self.seen("ReserveNow", kw)
        return call_result.ReserveNow(status="Accepted")

    @on(Action.cancel_reservation)
    def cancel(self, **kw):
        self.seen("CancelReservation", kw)
        return call_result.CancelReservation(status="Accepted")

    @on(Action.send_local_list)
    def send_local_list(self, **kw):
        self.seen("SendLocalList", kw)
        return call_result.SendLocalList(status="Accepted")

    @on(Action.get_local_list_version)
    def local_list_version(self, **kw):
        self.seen("GetLocalListVersion", kw)
        return call_result.GetLocalListVersion(version_number=3)

    @on(Action.update_firmware)
    def update_firmware(self, **kw):
        self.seen("UpdateFirmware", kw)
        return call_result.UpdateFirmware(status="Accepted")

    @on(Action.get_log)
    def get_log(self, **kw):
        self.seen("GetLog", kw)
        return call_result.GetLog(status="Accepted", filename="log.tar.gz")

    @on(Action.data_transfer)
    def data_transfer(self, **kw):
        self.seen("DataTransfer", kw)
        return call_result.DataTransfer(status="Accepted")


def meter(wh, watts, soc, context):
    return {
        "timestamp": now(),
        "sampled_value": [
            {"value": wh / 1000, "measurand": "Energy.Active.Import.Register", "context": context,
             "unit_of_measure": {"unit": "kWh"}},
            {"value": watts, "measurand": "Power.Active.Import", "context": context},
            {"value": soc, "measurand": "SoC", "location": "EV", "context": context},
            {"value": 229.8, "measurand": "Voltage", "phase": "L1-N", "context": context},
        ],
    }


async def session(cp, token, tx):
    id_token = {"id_token": token, "type": "ISO14443"}
    boot = await cp.call(call.BootNotification(
        charging_station={"model": "PyStation", "vendor_name": "chargegrid-tests"}, reason="PowerUp"), suppress=False)
    emit("boot", status=boot.status, interval=boot.interval)
    await cp.call(call.StatusNotification(timestamp=now(), connector_status="Available", evse_id=1, connector_id=1), suppress=False)
    auth = await cp.call(call.Authorize(id_token=id_token), suppress=False)
    emit("authorize", status=auth.id_token_info["status"])
    started = await cp.call(call.TransactionEvent(
        event_type="Started", timestamp=now(), trigger_reason="Authorized", seq_no=0,
        transaction_info={"transaction_id": tx, "charging_state": "EVConnected"},
        id_token=id_token, evse={"id": 1, "connector_id": 1},
        meter_value=[meter(120_000, 0, 20, "Transaction.Begin")]), suppress=False)
    emit("started", status=started.id_token_info["status"] if started.id_token_info else None)
    needs = await cp.call(call.NotifyEVChargingNeeds(evse_id=1, charging_needs={
        "requested_energy_transfer": "AC_three_phase",
        "departure_time": now(4 * 3600),
        "ac_charging_parameters": {"energy_amount": 30000, "ev_min_current": 6, "ev_max_current": 16, "ev_max_voltage": 400},
    }), suppress=False)
    emit("needs", status=needs.status)
    await read_line()
    await cp.call(call.StatusNotification(timestamp=now(), connector_status="Occupied", evse_id=1, connector_id=1), suppress=False)
    for seq, (wh, w, soc) in enumerate([(123_500, 10_900, 26), (127_000, 10_800, 31)], start=1):
        await cp.call(call.TransactionEvent(
            event_type="Updated", timestamp=now(), trigger_reason="MeterValuePeriodic", seq_no=seq,
            transaction_info={"transaction_id": tx, "charging_state": "Charging"},
            meter_value=[meter(wh, w, soc, "Sample.Periodic")]), suppress=False)
    await cp.call(call.MeterValues(evse_id=1, meter_value=[meter(127_200, 10_700, 31, "Sample.Clock")]), suppress=False)
    ended = await cp.call(call.TransactionEvent(
        event_type="Ended", timestamp=now(), trigger_reason="EVCommunicationLost", seq_no=3,
        transaction_info={"transaction_id": tx, "stopped_reason": "EVDisconnected"},
        meter_value=[meter(128_000, 0, 33, "Transaction.End")]), suppress=False)
    emit("ended")
    await cp.call(call.Heartbeat(), suppress=False)
    emit("ready")


async def main(url, station, token, tx):
    async with websockets.connect(f"{url}/{station}", subprotocols=["ocpp2.0.1"]) as ws:
        cp = Station(station, ws)
        serving = asyncio.create_task(cp.start())
        try:
            await session(cp, token, tx)
        except Exception as e:
            emit("error", error=repr(e))
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        serving.cancel()
    emit("closed")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
