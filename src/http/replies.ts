import type { FastifyReply } from 'fastify';
import type { ZohoError } from '../domain/errors.js';

/** Zoho's CRM front-ends answer errors with this exact type (seed-job-details.txt captures). */
export const ERROR_CONTENT_TYPE = 'application/json;charset=utf-8';
export const JSON_CONTENT_TYPE = 'application/json';

export function sendError(reply: FastifyReply, error: ZohoError): FastifyReply {
  return reply.code(error.httpStatus).header('content-type', ERROR_CONTENT_TYPE).send(Buffer.from(JSON.stringify(error.toBody()), 'utf8'));
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', JSON_CONTENT_TYPE).send(Buffer.from(JSON.stringify(body), 'utf8'));
}
