/** Told after a commit that durable work is waiting, so the worker starts it at once. */
export interface WorkNotifier {
  wake(): void;
}
