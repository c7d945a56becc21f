/**
 * Public API of the tamper-evident session registry: RFC 8785 leaves, RFC 6962 / 9162 Merkle
 * proofs, C2SP signed checkpoints, file and PostgreSQL stores, verification, proof bundles.
 */
export { canonicalize, canonicalBytes, parseCanonical, CanonicalJsonError } from './jcs.js';
export type { JsonValue } from './jcs.js';
export {
  HASH_BYTES,
  leafHash,
  nodeHash,
  emptyRoot,
  treeRoot,
  TreeBuilder,
  inclusionProof,
  consistencyProof,
  verifyInclusion,
  verifyConsistency,
} from './merkle.js';
export {
  NoteError,
  ed25519KeyId,
  generateSignerKey,
  signerFromSeed,
  verifierOf,
  formatVerifierKey,
  formatSignerKey,
  parseVerifierKey,
  parseSignerKey,
  signNote,
  parseSignedNote,
  openNote,
  formatCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  openCheckpoint,
} from './checkpoint.js';
export type { VerifierKey, SignerKey, Checkpoint, SignedNote, NoteSignature } from './checkpoint.js';
export { EventError, newToken, normalizeTime, validateEvent, encodeEvent, decodeEvent } from './events.js';
export type { RegistryEvent, EventType, MeetingCreated, LegJoined, LegLeft, KeyRotated, LegContent } from './events.js';
export type { RegistryStore, RegistryDescription, StoredCheckpoint, LogSnapshot, AppendPlanner, AppendResult } from './store.js';
export { isPostgresUrl } from './store.js';
export { FileStore, FILE_FORMAT } from './file-store.js';
export type { FileStoreOptions } from './file-store.js';
export { PostgresStore, redactUrl } from './postgres-store.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { Registry, openRegistry, openStore } from './registry.js';
export type { OpenRegistryOptions, AddLegInput, AddLegResult, IndexedEvent, LegRecord } from './registry.js';
export { verifyLog, FINDING_INFO } from './verify.js';
export type { Finding, FindingKind, VerifyOptions, VerifyReport } from './verify.js';
export { PROOF_BUNDLE_FORMAT, makeProofBundle, verifyProofBundle } from './bundle.js';
export type { ProofBundle, ProofCheck } from './bundle.js';
