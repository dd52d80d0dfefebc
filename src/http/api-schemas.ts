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
