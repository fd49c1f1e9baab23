import type { ProtocolName } from '../service.js';
import { awsJsonCodec } from './aws-json.js';
import type { ProtocolCodec } from './codec.js';
import { queryCodec } from './query.js';
import { restJsonCodec } from './rest-json.js';
import { restXmlCodec } from './rest-xml.js';

export type { DecodedRequest, EncodeContext, ProtocolCodec } from './codec.js';

/** The one codec for each wire protocol; codecs are stateless, so these are shared. */
export function codecFor(protocol: ProtocolName): ProtocolCodec {
  switch (protocol) {
    case 'json-1.0':
    case 'json-1.1':
      return awsJsonCodec;
    case 'query':
      return queryCodec;
    case 'rest-json':
      return restJsonCodec;
    case 'rest-xml':
      return restXmlCodec;
  }
}
