"""An OCPP 1.6J charge point built on the Python `ocpp` package (schema validation on).

Independent of chargegrid's code: it is the interoperability peer of the end-to-end tests.
It runs a full session (boot, status, authorize, start, meter values, stop), then answers
every central-system call until its stdin closes. Everything it sees is printed as one JSON
object per line on stdout, for the Rust test to read.

usage: cp16.py WS_URL CHARGER_ID ID_TAG
"""

import asyncio
import json
import sys
from datetime import datetime, timedelta, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Cp
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def now(offset_s=0):
    t = datetime.now(timezone.utc) + timedelta(seconds=offset_s)
    return t.isoformat().replace("+00:00", "Z")


class ChargePoint(Cp):
    def seen(self, action, payload):
        emit("received", action=action, payload=payload)

    @on(Action.remote_start_transaction)
    def remote_start(self, **kw):
        self.seen("RemoteStartTransaction", kw)
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def remote_stop(self, **kw):
        self.seen("RemoteStopTransaction", kw)
        return call_result.RemoteStopTransaction(status="Accepted")

    @on(Action.reset)
    def reset(self, **kw):
        self.seen("Reset", kw)
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def change_availability(self, **kw):
        self.seen("ChangeAvailability", kw)
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.change_configuration)
    def change_configuration(self, **kw):
        self.seen("ChangeConfiguration", kw)
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.get_configuration)
    def get_configuration(self, **kw):
        self.seen("GetConfiguration", kw)
        return call_result.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
        )

    @on(Action.unlock_connector)
    def unlock(self, **kw):
        self.seen("UnlockConnector", kw)
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.clear_cache)
    def clear_cache(self, **kw):
        self.seen("ClearCache", kw)
        return call_result.ClearCache(status="Accepted")

    @on(Action.trigger_message)
    def trigger(self, **kw):
        self.seen("TriggerMessage", kw)
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.data_transfer)
    def data_transfer(self, **kw):
        self.seen("DataTransfer", kw)
        return call_result.DataTransfer(status="Accepted", data="pong")

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
            connector_id=kw.get("connector_id"),
            schedule_start=now(),
            charging_schedule={
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            },
        )

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
        return call_result.GetLocalListVersion(list_version=3)

    @on(Action.update_firmware)
    def update_firmware(self, **kw):
        self.seen("UpdateFirmware", kw)
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def diagnostics(self, **kw):
        self.seen("GetDiagnostics", kw)
        return call_result.GetDiagnostics(file_name="diag.tar.gz")


def meter(wh, watts, soc, context="Sample.Periodic"):
    phases = [
        {"value": f"{watts / 3 / 230:.1f}", "measurand": "Current.Import", "phase": p, "unit": "A", "context": context}
        for p in ("L1", "L2", "L3")
    ]
    return {
        "timestamp": now(),
        "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh", "context": context},
            {"value": f"{watts / 1000:.2f}", "measurand": "Power.Active.Import", "unit": "kW", "context": context},
            {"value": "230.1", "measurand": "Voltage", "phase": "L1-N", "unit": "V", "context": context},
            {"value": str(soc), "measurand": "SoC", "unit": "Percent", "location": "EV", "context": context},
            {"value": "31.5", "measurand": "Temperature", "unit": "Celsius", "location": "Body", "context": context},
            *phases,
        ],
    }


async def session(cp, id_tag):
    boot = await cp.call(call.BootNotification(charge_point_model="PyCP", charge_point_vendor="chargegrid-tests"), suppress=False)
    emit("boot", status=boot.status, interval=boot.interval)
    await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available", timestamp=now()), suppress=False)
    auth = await cp.call(call.Authorize(id_tag=id_tag), suppress=False)
    emit("authorize", status=auth.id_tag_info["status"])
    start = await cp.call(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=1000, timestamp=now()), suppress=False)
    tx = start.transaction_id
    emit("started", transaction_id=tx, status=start.id_tag_info["status"])
    await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging", timestamp=now()), suppress=False)
    for i, (wh, w, soc) in enumerate([(1600, 7200, 41), (2800, 7100, 45), (4000, 6900, 49)]):
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[meter(wh, w, soc)]), suppress=False)
    stop = await cp.call(
        call.StopTransaction(
            meter_stop=4600,
            timestamp=now(),
            transaction_id=tx,
            reason="EVDisconnected",
            id_tag=id_tag,
            transaction_data=[meter(4600, 0, 51, "Transaction.End")],
        ),
        suppress=False,
    )
    emit("stopped", status=stop.id_tag_info["status"] if stop.id_tag_info else None)
    await cp.call(call.Heartbeat(), suppress=False)
    emit("ready")


async def main(url, charger_id, id_tag):
    async with websockets.connect(f"{url}/{charger_id}", subprotocols=["ocpp1.6"]) as ws:
        cp = ChargePoint(charger_id, ws)
        serving = asyncio.create_task(cp.start())
        try:
            await session(cp, id_tag)
        except Exception as e:  # report, then keep answering so the test sees why
            emit("error", error=repr(e))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        serving.cancel()
    emit("closed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
