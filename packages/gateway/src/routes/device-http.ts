import type { FastifyRequest } from 'fastify';
import { CivicLoopError, type Device } from '@civicloop/model';
import type { IngestOutcome, PipelineInput } from '../telemetry/pipeline.js';
import type { RunningTelemetry, ServicesWithTelemetry } from '../telemetry/start.js';

// What the phones' HTTP protocols (OsmAnd / Traccar Client, OwnTracks' HTTP mode) share: the
// device's own secret as its credential, and one message into the telemetry pipeline per request.

/** HTTP Basic credentials, if the request carries them. */
export function basicCredentials(authorization: string | undefined): { username: string; password: string } | undefined {
  const [scheme, value] = (authorization ?? '').split(' ', 2);
  if (scheme?.toLowerCase() !== 'basic' || !value) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}

/**
 * The device a secret belongs to, or the catalogue error to answer. An address past its
 * failed-login limit is refused (429) without a lookup, unless this gateway verified the secret
 * within the last day, as on MQTT and JT/T 808: phones on one carrier share its addresses, and
 * one with a stale secret retrying must not shut the others out. A device's posts are then
 * limited as any authenticated client's are, per device and per address (RATE_LIMIT_PER_KEY,
 * RATE_LIMIT_PER_ADDRESS), not by the keyless routes' limit that residents' pages share.
 */
export async function deviceOfSecret(services: ServicesWithTelemetry, address: string, secret: string): Promise<{ tenantId: string; device: Device }> {
  if (services.addressLimits.isBlocked(address) && !services.devices.verifiedRecently(secret)) services.addressLimits.assertNotBlocked(address);
  const login = await services.devices.login(secret);
  if ('refused' in login) {
    if (login.refused === 'disabled') throw new CivicLoopError('CL_ERR_FORBIDDEN', 'This device is disabled; enable it with PATCH /v1/devices/{id}.');
    throw new CivicLoopError('CL_ERR_INVALID_KEY', 'The device secret is unknown or was rotated; use the current one from POST /v1/devices/{id}/credentials.');
  }
  services.requestLimits.check(`device:${login.login.tenantId}:${login.device.id}`, address);
  return { tenantId: login.login.tenantId, device: login.device };
}

/** Telemetry on this gateway, or CL_ERR_UNAVAILABLE for a device protocol's request when it is not running. */
export function runningTelemetry(services: ServicesWithTelemetry): RunningTelemetry {
  if (!services.telemetry) throw new CivicLoopError('CL_ERR_UNAVAILABLE', 'Telemetry is not running on this gateway.');
  return services.telemetry;
}

/**
 * Decodes the request's message with `decode` and hands it to the pipeline. The decoders are
 * total (a property test says so); should one ever throw, the message is refused, not the request.
 */
export async function ingestOverHttp(
  services: ServicesWithTelemetry,
  request: FastifyRequest,
  { tenantId, device }: { tenantId: string; device: Device },
  decode: () => PipelineInput,
): Promise<IngestOutcome> {
  const telemetry = runningTelemetry(services);
  let decoded: PipelineInput;
  try {
    decoded = decode();
  } catch (error) {
    request.log.warn({ err: error, device: device.id, url: request.routeOptions.url }, 'device message decoder threw');
    decoded = { type: 'rejected', reason: 'decoder_error', detail: 'the decoder could not read this message' };
  }
  return telemetry.pipeline.ingest({ tenantId, device, counters: telemetry.counters.of(tenantId) }, decoded);
}
