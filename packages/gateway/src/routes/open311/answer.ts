import type { FastifyReply, FastifyRequest } from 'fastify';
import { CivicLoopError } from '@civicloop/model';
import { toOpen311Xml, type Open311Root } from './xml.js';

/** GeoReport v2's formats, named by the URL's extension. XML is the one the spec requires. */
export type Open311Format = 'xml' | 'json';

/** What discovery lists, in the spec's own words (media types). */
export const OPEN311_MEDIA_TYPES = ['text/xml', 'application/json'] as const;

/**
 * The format a request's URL asks for, read from the raw URL so that it is known even when
 * fastify refused the URL itself: `.json` is JSON; `.xml`, an unknown extension or none is XML,
 * the spec's default (so an error about an unserved format comes in the format the spec requires).
 */
export function formatAsked(url: string): Open311Format {
  const path = url.split('?', 1)[0] ?? '';
  return path.endsWith('.json') ? 'json' : 'xml';
}

/** A route's `:format`: one of ours, or 400. */
export function servedFormat(format: string): Open311Format {
  if (format === 'xml' || format === 'json') return format;
  throw new CivicLoopError('CL_ERR_VALIDATION', `Format ${format.slice(0, 20)} is not served; use .xml or .json.`);
}

/** Sends a document in the format asked for; `root` names it in XML (JSON has no root). */
export function answer(reply: FastifyReply, format: Open311Format, root: Open311Root, body: unknown): FastifyReply {
  if (format === 'json') return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
  return reply.type('text/xml; charset=utf-8').send(toOpen311Xml(root, body));
}

/** fastify's own refusals of an Open311 URL (before any route runs), in the format it asks for. */
export function sendOpen311FrameworkError(error: CivicLoopError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return answer(reply.code(error.status), formatAsked(request.url), 'errors', [{ code: error.status, description: error.message }]);
}

/** A request Node could not parse, under /open311/: the spec's error document in the format its target asks for. */
export function open311ClientErrorDocument(error: CivicLoopError, target: string): { type: string; body: string } {
  const errors = [{ code: error.status, description: error.message }];
  return formatAsked(target) === 'json'
    ? { type: 'application/json; charset=utf-8', body: JSON.stringify(errors) }
    : { type: 'text/xml; charset=utf-8', body: toOpen311Xml('errors', errors) };
}
