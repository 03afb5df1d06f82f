// Public entry of the Kubernetes protobuf request decoding; see decode.ts.
export { decodeKubeProtobuf, isKubeProtobuf, KUBE_PROTOBUF } from './decode.js';
