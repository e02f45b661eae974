// The protobuf runtime's JSON helpers from the SDK's own copy (its ESM
// build), so the bundle holds one protobuf runtime, not the SDK's and a
// second one of the console's.
export { fromJson, toJson } from "../../sdk/typescript/node_modules/@bufbuild/protobuf/dist/esm/index.js";
export type { JsonValue } from "../../sdk/typescript/node_modules/@bufbuild/protobuf/dist/esm/index.js";
