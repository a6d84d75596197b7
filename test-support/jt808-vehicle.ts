import { inject, type TestGateway } from './gateway-harness.js';
import { Jt808Terminal } from './jt808-terminal.js';

/** A vehicle online over JT/T 808: its device id, its terminal (registered and authenticated) and the code it authenticates with. */
export interface OnlineJt808Vehicle {
  deviceId: string;
  terminal: Jt808Terminal;
  code: string;
}

/**
 * What most JT/T 808 tests start from: a vehicle registered over HTTP (protocol jt808, its
 * terminal number; driven by `staffId` and reporting in `crs` if given), its terminal connected to the gateway's
 * listener, registered (0x0100) and authenticated (0x0102). Throws, saying why, when any step is
 * refused. The terminal is added to `terminals`, for the test file to close.
 */
export async function onlineJt808Vehicle(
  gw: TestGateway,
  terminalId: string,
  terminals: Jt808Terminal[],
  options: { staffId?: string; version?: 2013 | 2019; crs?: 'gcj02' | 'bd09' } = {},
): Promise<OnlineJt808Vehicle> {
  const res = await inject(gw, 'POST', '/v1/devices', {
    auth: gw.tenant.secretKey,
    body: {
      kind: 'vehicle',
      name: `Truck ${terminalId}`,
      protocol: 'jt808',
      terminalId,
      ...(options.staffId ? { staffId: options.staffId } : {}),
      ...(options.crs ? { crs: options.crs } : {}),
    },
  });
  if (res.status !== 201) throw new Error(`registering vehicle ${terminalId}: ${res.status} ${JSON.stringify(res.body)}`);
  const terminal = new Jt808Terminal(terminalId, options.version ?? 2013);
  terminals.push(terminal);
  await terminal.connect(gw.telemetry!.jt808Port!);
  const { result, code } = await terminal.register();
  if (result !== 0 || !code) throw new Error(`terminal ${terminalId} registered with result ${result}`);
  const authenticated = await terminal.authenticate(code);
  if (authenticated !== 0) throw new Error(`terminal ${terminalId} authenticated with result ${authenticated}`);
  return { deviceId: (res.body as { device: { id: string } }).device.id, terminal, code };
}
