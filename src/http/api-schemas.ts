// Shapes shared by the HTTP routes and /docs.
import { z } from 'zod';

/** Every error the API answers: a sentence a person can act on, and the field when one is at fault. */
export const ErrorBody = z
  .object({
    error: z.string().describe('what is wrong, in a sentence'),
    field: z.string().optional().describe('where: body.name, querystring.encoding, params.id …'),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe('every problem, when there are several'),
  })
  .meta({ id: 'Error' });

/** The operator API's tag, its security scheme (an operator token or a session), and its errors. */
export const OPS = ['operations'];
export const SECURITY = [{ operatorToken: [] }];
export const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
/** `:id` in a path. */
export const Id = z.object({ id: z.coerce.number().int().positive() });
