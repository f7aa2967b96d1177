"""A charge point of either OCPP version, built on the Python `ocpp` package (schema
validation on), for the network-registry tests: it logs in with HTTP Basic auth (or none),
boots, and then

- takes a new password the way the OCPP 1.6 security whitepaper and OCPP 2.0.1 (A01) say: 1.6
  ChangeConfiguration `AuthorizationKey` (hexadecimal, decoded to the password), 2.0.1
  SetVariables `SecurityCtrlr.BasicAuthPassword`; it answers Accepted (Rejected with
  `--refuse-password`), then reconnects with the new password;
- answers a settings read (1.6 GetConfiguration; 2.0.1 GetBaseReport, then a NotifyReport);
- on a stdin line `status N`, reports connector N Available and says whether it was accepted;
  `firmware STATUS` / `upload STATUS`, a firmware or diagnostics/log status notification;
- reports when the central system closes its connection.

Everything it sees is printed as one JSON object per line on stdout.

usage: registry_cp.py VERSION WS_URL CHARGER_ID PASSWORD|- [--refuse-password]
"""

import asyncio
import base64
import json
import sys
from datetime import datetime, timezone

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


REFUSE = "--refuse-password" in sys.argv


class Station16(Cp16):
    new_password = None

    @on(Action16.change_configuration)
    def change_configuration(self, key, value, **kw):
        emit("received", action="ChangeConfiguration", key=key, value=value)
        if key == "AuthorizationKey":
            if REFUSE:
                return result16.ChangeConfiguration(status="Rejected")
            # Hexadecimal on the wire; the password is the decoded bytes.
            self.new_password = bytes.fromhex(value).decode()
        return result16.ChangeConfiguration(status="Accepted")

    @on(Action16.get_configuration)
    def get_configuration(self, **kw):
        emit("received", action="GetConfiguration")
        return result16.GetConfiguration(configuration_key=[
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ])

    @after(Action16.get_configuration)
    def answered_configuration(self, **kw):
        emit("answered", action="GetConfiguration")

    async def operation(self, kind, status):
        if kind == "firmware":
            await self.call(call16.FirmwareStatusNotification(status=status), suppress=False)
        else:
            await self.call(call16.DiagnosticsStatusNotification(status=status), suppress=False)

    async def boot(self):
        boot = await self.call(call16.BootNotification(charge_point_model="PyReg", charge_point_vendor="chargegrid-tests"), suppress=False)
        return boot.status

    async def report(self, connector):
        await self.call(call16.StatusNotification(connector_id=connector, error_code="NoError", status="Available", timestamp=now()), suppress=False)


class Station201(Cp201):
    new_password = None

    @on(Action201.set_variables)
    def set_variables(self, set_variable_data, **kw):
        results = []
        for v in set_variable_data:
            name = f'{v["component"]["name"]}.{v["variable"]["name"]}'
            emit("received", action="SetVariables", key=name, value=v["attribute_value"])
            status = "Accepted"
            if name == "SecurityCtrlr.BasicAuthPassword":
                if REFUSE:
                    status = "Rejected"
                else:
                    self.new_password = v["attribute_value"]
            results.append({"attribute_status": status, "component": v["component"], "variable": v["variable"]})
        return result201.SetVariables(set_variable_result=results)

    @on(Action201.get_base_report)
    def get_base_report(self, request_id, report_base, **kw):
        emit("received", action="GetBaseReport", report_base=report_base)
        return result201.GetBaseReport(status="Accepted")

    @after(Action201.get_base_report)
    async def send_report(self, request_id, report_base, **kw):
        await self.call(call201.NotifyReport(
            request_id=request_id, generated_at=now(), seq_no=0, tbc=False,
            report_data=[
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
                 "variable_attribute": [{"type": "Actual", "value": "300", "mutability": "ReadWrite"}]},
                {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"},
                 "variable_attribute": [{"type": "MaxSet", "value": "22000"}, {"value": "11000", "mutability": "ReadOnly"}]},
            ]), suppress=False)
        emit("reported")

    async def operation(self, kind, status):
        if kind == "firmware":
            await self.call(call201.FirmwareStatusNotification(status=status, request_id=1), suppress=False)
        else:
            await self.call(call201.LogStatusNotification(status=status, request_id=2), suppress=False)

    async def boot(self):
        boot = await self.call(call201.BootNotification(
            charging_station={"model": "PyReg", "vendor_name": "chargegrid-tests"}, reason="PowerUp"), suppress=False)
        return boot.status

    async def report(self, connector):
        await self.call(call201.StatusNotification(timestamp=now(), connector_status="Available", evse_id=connector, connector_id=1), suppress=False)


async def connect(version, url, charger, password):
    headers = {}
    if password:
        token = base64.b64encode(f"{charger}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    ws = await websockets.connect(f"{url}/{charger}", subprotocols=[f"ocpp{version}"], additional_headers=headers)
    cp = (Station16 if version == "1.6" else Station201)(charger, ws)
    return ws, cp


async def run(version, url, charger, password):
    stdin = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def read_stdin():
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            await stdin.put(line)
            if not line:
                return

    asyncio.create_task(read_stdin())
    first = True
    line_task = asyncio.create_task(stdin.get())
    while True:
        try:
            ws, cp = await connect(version, url, charger, password)
        except Exception as e:
            emit("refused", error=repr(e))
            return
        serving = asyncio.create_task(cp.start())
        status = await cp.boot()
        emit("ready" if first else "reconnected", status=status)
        first = False
        while True:
            done, _ = await asyncio.wait({line_task, serving}, timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
            if serving in done:
                emit("closed", code=ws.close_code)
                return
            if cp.new_password is not None:
                # Give the answer time to leave, then log in again with the new password.
                await asyncio.sleep(0.2)
                password, cp.new_password = cp.new_password, None
                serving.cancel()
                await ws.close()
                break
            if line_task in done:
                line = line_task.result()
                line_task = asyncio.create_task(stdin.get())
                if not line:
                    serving.cancel()
                    await ws.close()
                    emit("finished")
                    return
                words = line.split()
                if words[:1] in (["firmware"], ["upload"]):
                    await cp.operation(words[0], words[1])
                    emit("sent", kind=words[0], status=words[1])
                if words[:1] == ["status"]:
                    try:
                        await cp.report(int(words[1]))
                        emit("status", connector=int(words[1]), accepted=True)
                    except Exception as e:
                        emit("status", connector=int(words[1]), accepted=False, error=repr(e))

if __name__ == "__main__":
    version, url, charger, password = sys.argv[1:5]
    asyncio.run(run(version, url, charger, None if password == "-" else password))
