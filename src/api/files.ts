/** What `pier up` leaves in its home for the CLI: where it listens (up.json) and the API token (0600). */
export const UP_FILE = "up.json";
export const API_TOKEN_FILE = "api-token";

export interface UpInfo {
  pid: number;
  port: number;
  url: string;
  startedAt: string;
}
