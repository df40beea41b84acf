// The gateway under test: run.sh starts it and passes its URL in GATEWAY_URL.
export function gatewayURL() {
  const url = process.env.GATEWAY_URL;
  if (!url) {
    throw new Error('GATEWAY_URL is not set: run these tests through e2e/http/run.sh');
  }
  return url.replace(/\/$/, '');
}

// The sandbox upstream behind the gateway, for placing calls: run.sh starts
// it and passes its URL in SANDBOX_URL.
export function sandboxURL() {
  const url = process.env.SANDBOX_URL;
  if (!url) {
    throw new Error('SANDBOX_URL is not set: run these tests through e2e/http/run.sh');
  }
  return url.replace(/\/$/, '');
}
