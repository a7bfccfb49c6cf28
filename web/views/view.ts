/** A view of the dashboard: drawn once into its element, then refreshed every `every` ms while shown. */
export interface View {
  /** How often refresh() runs (none for static views). */
  every?: number;
  refresh(): Promise<void>;
  /** Called when the view is left: timers, charts. */
  stop?(): void;
}
