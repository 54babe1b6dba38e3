/**
 * ed25519 signing through libsodium, from the `sodium-native` package's prebuilt addon (shipped
 * inside the npm package for linux-x64, linux-arm64 and others; nothing is downloaded or
 * compiled). On this 2-core VM it signs in ~33 µs against ~70 µs for node:crypto's OpenSSL
 * (bench/RESULTS.md, ledger), and signing was a third of a single append.
 *
 * It is optional: where the addon does not load (a 32-bit ARM Pi has no prebuild), signing stays
 * on node:crypto. ed25519 signatures are deterministic, so both give the same bytes; the
 * crypto tests check that, and that each verifies the other's.
 */
import { createRequire } from 'node:module';
import type { Signer } from './provider.js';
import { ProtocolError } from '../errors.js';

/** The two libsodium calls we use (sodium-native ships no types). */
interface SodiumNative {
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
}

let loaded: { sodium: SodiumNative } | { error: string } | undefined;

/** Loads sodium-native once; the error says why it is unavailable. */
export function loadSodium(): { sodium: SodiumNative } | { error: string } {
  if (!loaded) {
    try {
      loaded = { sodium: createRequire(import.meta.url)('sodium-native') as SodiumNative };
    } catch (err) {
      loaded = { error: (err as Error).message.split('\n')[0]! };
    }
  }
  return loaded;
}

/** A libsodium signer for a 32-byte seed. */
export function sodiumSigner(sodium: SodiumNative, seed: Uint8Array): Signer {
  if (seed.length !== 32) throw new ProtocolError('BAD_KEY', `seed is ${seed.length} bytes; an ed25519 seed is 32 bytes`);
  const publicKey = new Uint8Array(32);
  const secretKey = new Uint8Array(64); // seed ‖ public key, libsodium's layout
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return {
    publicKey,
    sign(message) {
      const signature = new Uint8Array(64);
      sodium.crypto_sign_detached(signature, message, secretKey);
      return signature;
    },
  };
}
