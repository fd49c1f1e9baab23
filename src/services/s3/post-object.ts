/**
 * POST Object (browser form uploads): not built yet.
 */
import type { HttpRequest, HttpResponse } from '../../aws/http.js';
import type { RequestContext } from '../../server/context.js';
import type { S3 } from './state.js';

export async function postObjectHandler(_s3: S3, _req: HttpRequest, _ctx: RequestContext): Promise<HttpResponse | undefined> {
  return undefined;
}
