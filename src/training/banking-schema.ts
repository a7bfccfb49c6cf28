/**
 * The Comprehensive Banking Database: its 40 columns, in file order, and its date format.
 * pier's default workload reads this layout, whether synthesized or the real CSV.
 */

export const BANKING_COLUMNS = [
  "Customer ID",
  "First Name",
  "Last Name",
  "Age",
  "Gender",
  "Address",
  "City",
  "Contact Number",
  "Email",
  "Account Type",
  "Account Balance",
  "Date Of Account Opening",
  "Last Transaction Date",
  "TransactionID",
  "Transaction Date",
  "Transaction Type",
  "Transaction Amount",
  "Account Balance After Transaction",
  "Branch ID",
  "Loan ID",
  "Loan Amount",
  "Loan Type",
  "Interest Rate",
  "Loan Term",
  "Approval/Rejection Date",
  "Loan Status",
  "CardID",
  "Card Type",
  "Credit Limit",
  "Credit Card Balance",
  "Minimum Payment Due",
  "Payment Due Date",
  "Last Credit Card Payment Date",
  "Rewards Points",
  "Feedback ID",
  "Feedback Date",
  "Feedback Type",
  "Resolution Status",
  "Resolution Date",
  "Anomaly",
] as const;

export type BankingColumn = (typeof BANKING_COLUMNS)[number];

export const GENDERS = ["Female", "Male", "Other"] as const;
export const TRANSACTION_TYPES = ["Deposit", "Transfer", "Withdrawal"] as const;

const DAY_MS = 86_400_000;

/** Formats a UTC timestamp as the dataset does: M/D/YYYY, no leading zeros, no time. */
export function formatBankingDate(utcMs: number): string {
  const d = new Date(utcMs);
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
}

const DATE_PATTERN = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * Parses M/D/YYYY (optionally followed by H:MM or H:MM:SS) into a UTC timestamp, or undefined
 * when the text is not such a date (including impossible ones such as 2/30/2023).
 */
export function parseBankingDate(text: string): number | undefined {
  const match = DATE_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const [month, day, year, hour, minute, second] = match
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  const ms = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  const d = new Date(ms);
  if (
    d.getUTCMonth() !== month! - 1 ||
    d.getUTCDate() !== day! ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  ) {
    return undefined;
  }
  return ms;
}

/** Whole days from `fromMs` to `toMs` (calendar days, UTC). */
export function daysBetween(fromMs: number, toMs: number): number {
  return Math.floor(toMs / DAY_MS) - Math.floor(fromMs / DAY_MS);
}

/** Monday = 0 … Sunday = 6, as pandas' dayofweek. */
export function dayOfWeekMondayZero(utcMs: number): number {
  return (new Date(utcMs).getUTCDay() + 6) % 7;
}

export const DAY_IN_MS = DAY_MS;
