import { startTestApp, type TestApp } from "./test-app.ts";
import { WebhookReceiver } from "./webhook-receiver.ts";

/**
 * A webhook receiver on 127.0.0.1 and a test app whose operator allows deliveries there (`env` adds settings or
 * replaces that one); the app's close closes the receiver too.
 */
export async function startAppWithReceiver(
  env: Record<string, string> = {},
): Promise<{ t: TestApp; receiver: WebhookReceiver }> {
  const receiver = await WebhookReceiver.start();
  let t: TestApp;
  try {
    t = await startTestApp({ VPS_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8", ...env });
  } catch (err) {
    await receiver.close();
    throw err;
  }
  const closeApp = t.close;
  t.close = async () => {
    await closeApp();
    await receiver.close();
  };
  return { t, receiver };
}
