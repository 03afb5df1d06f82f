// Response content negotiation (pure): which representation a client asked for in Accept.
// Guarantees: Table and PartialObjectMetadata(List) when asked for with a version we serve;
// JSON otherwise; a 406 when the client accepts nothing we can produce.
import { TriremeError } from '../errors.js';
import { parseAccept } from './http-util.js';

export type Representation =
  | { as: 'json' }
  | { as: 'yaml' }
  | { as: 'table'; version: 'v1' | 'v1beta1' }
  | { as: 'metadata'; version: 'v1' | 'v1beta1' };

export function negotiate(accept: string | undefined): Representation {
  for (const m of parseAccept(accept)) {
    const json = m.type === 'application/json' || m.type === 'application/*' || m.type === '*/*';
    if (json && m.params.as) {
      const v = m.params.v;
      if (m.params.g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
      if (m.params.as === 'Table') return { as: 'table', version: v };
      if (m.params.as === 'PartialObjectMetadata' || m.params.as === 'PartialObjectMetadataList') return { as: 'metadata', version: v };
      continue;
    }
    if (json) return { as: 'json' };
    if (m.type === 'application/yaml') return { as: 'yaml' };
  }
  throw new TriremeError('NotAcceptable', `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io`);
}
