// An independent check of an eddsa-rdfc-2022 Data Integrity proof (W3C vc-di-eddsa, "Verify Proof"), written
// from the specification with jsonld.js (rdf-canonize: RDFC-1.0) and Node's own Ed25519: none of the site's
// Python code. Reads {"credential", "publicKeyMultibase", "contexts"} as JSON on stdin (contexts: the folder of
// the bundled JSON-LD contexts and their index.json); prints {"verified": true|false, "reason"}; never uses the
// network (the document loader refuses any URL that is not bundled).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash, createPublicKey, verify } from "node:crypto";
import jsonld from "jsonld";

const input = JSON.parse(readFileSync(0, "utf8"));
const index = JSON.parse(readFileSync(join(input.contexts, "index.json"), "utf8"));
const documentLoader = async (url) => {
  if (!(url in index)) throw new Error(`context not bundled: ${url}`);
  return { contextUrl: null, documentUrl: url, document: JSON.parse(readFileSync(join(input.contexts, index[url]), "utf8")) };
};

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58btc(text) {
  let value = 0n;
  for (const ch of text) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) throw new Error("not base58btc");
    value = value * 58n + BigInt(digit);
  }
  const bytes = [];
  while (value > 0n) { bytes.unshift(Number(value % 256n)); value /= 256n; }
  for (const ch of text) { if (ch !== "1") break; bytes.unshift(0); }
  return Buffer.from(bytes);
}

async function canonical(document) {
  return jsonld.canonize(document, { algorithm: "RDFC-1.0", format: "application/n-quads", documentLoader, safe: true });
}

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest();

try {
  const credential = input.credential;
  const proofs = Array.isArray(credential.proof) ? credential.proof : [credential.proof];
  if (proofs.length !== 1) throw new Error("expected one proof");
  const { proofValue, ...options } = proofs[0];
  if (options.type !== "DataIntegrityProof" || options.cryptosuite !== "eddsa-rdfc-2022") throw new Error("not eddsa-rdfc-2022");
  const { proof: _ignored, ...unsecured } = credential;
  options["@context"] = credential["@context"];
  const data = Buffer.concat([sha256(await canonical(options)), sha256(await canonical(unsecured))]);
  const raw = base58btc(input.publicKeyMultibase.slice(1));
  if (raw[0] !== 0xed || raw[1] !== 0x01) throw new Error("not an Ed25519 Multikey");
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.subarray(2).toString("base64url") }, format: "jwk" });
  const verified = verify(null, data, key, base58btc(proofValue.slice(1)));
  process.stdout.write(JSON.stringify({ verified, reason: verified ? "" : "signature" }));
} catch (error) {
  process.stdout.write(JSON.stringify({ verified: false, reason: String(error.message || error) }));
}
