// A child of `azcreds exec`: build JavaScript Blob clients only from the exported variables.
//
// node blob_roundtrip.js CONTAINER MODE...  round-trips one blob per mode and prints "ok MODE".
// Modes: connection-string (BlobServiceClient.fromConnectionString), shared-key
// (StorageSharedKeyCredential from AZURE_STORAGE_ACCOUNT_NAME/KEY), sas (account URL + SAS token),
// environment (@azure/identity EnvironmentCredential: AZURE_TENANT_ID, AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST), managed-identity (ManagedIdentityCredential,
// user-assigned through AZURE_CLIENT_ID) and default (DefaultAzureCredential). The test CA comes
// from NODE_EXTRA_CA_CERTS.
"use strict";

const { BlobServiceClient, StorageSharedKeyCredential } = require("@azure/storage-blob");

// Fail fast: a test that expects success should not wait through retries.
const OPTIONS = { retryOptions: { maxTries: 1 } };

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function client(mode) {
  const url = need("AZURE_STORAGE_ACCOUNT_URL");
  switch (mode) {
    case "connection-string":
      return BlobServiceClient.fromConnectionString(need("AZURE_STORAGE_CONNECTION_STRING"), OPTIONS);
    case "shared-key":
      return new BlobServiceClient(
        url,
        new StorageSharedKeyCredential(need("AZURE_STORAGE_ACCOUNT_NAME"), need("AZURE_STORAGE_ACCOUNT_KEY")),
        OPTIONS,
      );
    case "sas":
      return new BlobServiceClient(`${url}?${need("AZURE_STORAGE_SAS_TOKEN")}`, undefined, OPTIONS);
    case "environment": {
      const { EnvironmentCredential } = require("@azure/identity");
      // No variable turns MSAL instance discovery off for a private authority.
      return new BlobServiceClient(url, new EnvironmentCredential({ disableInstanceDiscovery: true }), OPTIONS);
    }
    case "managed-identity": {
      const { ManagedIdentityCredential } = require("@azure/identity");
      const clientId = process.env.AZURE_CLIENT_ID;
      return new BlobServiceClient(url, new ManagedIdentityCredential(clientId ? { clientId } : {}), OPTIONS);
    }
    case "default": {
      const { DefaultAzureCredential } = require("@azure/identity");
      return new BlobServiceClient(url, new DefaultAzureCredential(), OPTIONS);
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

async function main(container, modes) {
  for (const mode of modes) {
    const blob = client(mode).getContainerClient(container).getBlockBlobClient(`node/${mode}.txt`);
    const payload = `written by a node child in mode ${mode}`;
    await blob.upload(payload, Buffer.byteLength(payload));
    const read = (await blob.downloadToBuffer()).toString();
    if (read !== payload) throw new Error(`read back ${JSON.stringify(read)}`);
    console.log("ok", mode);
  }
}

main(process.argv[2], process.argv.slice(3)).catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
