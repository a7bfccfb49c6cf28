/**
 * Synthetic Comprehensive Banking Database rows: the 40 columns with the real file's names, formats
 * and rough distributions. The Anomaly flag depends on several inputs at once, so it is learnable
 * without being given away by any single column.
 */
import { createRandom, type Random } from "../shared/index.js";
import {
  type BankingColumn,
  DAY_IN_MS,
  daysBetween,
  formatBankingDate,
  GENDERS,
  TRANSACTION_TYPES,
} from "./banking-schema.js";

export interface SynthOptions {
  rows: number;
  seed: number;
}

export type BankingRecord = Record<BankingColumn, string>;

const FIRST_NAMES = [
  "Joshua",
  "Mark",
  "Joseph",
  "Kevin",
  "Linda",
  "Maria",
  "Susan",
  "Aisha",
  "Wei",
  "Priya",
  "Olga",
  "Juan",
];
const LAST_NAMES = [
  "Hall",
  "Taylor",
  "Wilson",
  "Brown",
  "Smith",
  "Garcia",
  "Chen",
  "Khan",
  "Novak",
  "Okafor",
  "Silva",
  "Kim",
];
const CITIES = [
  "Fort Worth",
  "Louisville",
  "Philadelphia",
  "Oklahoma City",
  "Seattle",
  "Denver",
  "Austin",
  "Boston",
];
const STREETS = ["Main St", "Oak St", "Pine St", "Maple Ave", "Cedar Ln", "Elm St", "Lake Rd", "Hill St"];

const money = (value: number): string => value.toFixed(2);

function dateBetween(random: Random, fromMs: number, toMs: number): number {
  return fromMs + Math.floor(random.next() * Math.max(1, daysBetween(fromMs, toMs) + 1)) * DAY_IN_MS;
}

/** Generates `rows` records, identical for identical options. */
export function synthesizeBankingRecords(options: SynthOptions): BankingRecord[] {
  const random = createRandom(options.seed);
  const openingStart = Date.UTC(2000, 0, 1);
  const yearStart = Date.UTC(2023, 0, 1);
  const yearEnd = Date.UTC(2023, 11, 31);
  const records: BankingRecord[] = [];
  for (let i = 1; i <= options.rows; i++) {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const age = random.int(18, 69);
    const gender = random.weighted(GENDERS, [1727, 1634, 1639]);
    const balance = 1000 + random.next() * 99_000;
    const opened = dateBetween(random, openingStart, Date.UTC(2023, 5, 30));
    const transactionDate = dateBetween(random, Math.max(opened, yearStart), yearEnd);
    const lastTransactionDate = dateBetween(random, transactionDate, yearEnd);
    const type = random.weighted(TRANSACTION_TYPES, [1698, 1629, 1673]);
    const amount = 10 + random.next() * 4990;
    const after = type === "Deposit" ? balance + amount : balance - amount;
    const accountAgeDays = daysBetween(opened, transactionDate);
    const loanAmount = 1000 + random.next() * 49_000;
    const creditLimit = 1000 + random.next() * 9000;
    const cardBalance = random.next() * creditLimit;
    const feedbackDate = dateBetween(random, yearStart, yearEnd);
    const resolved = random.next() < 0.5;

    // Anomalies: large outflows relative to the balance, young accounts, unusual ages, transfers.
    const outflowRatio = type === "Deposit" ? 0 : amount / balance;
    const score =
      -4.2 +
      18 * Math.min(outflowRatio, 0.25) +
      (accountAgeDays < 365 ? 1.6 : 0) +
      (age < 23 || age > 64 ? 0.9 : 0) +
      (type === "Transfer" ? 0.7 : 0) +
      0.6 * random.normal();
    const anomaly = random.next() < 1 / (1 + Math.exp(-score)) ? "-1" : "1";

    const record: Record<string, string> = {
      "Customer ID": String(i),
      "First Name": first,
      "Last Name": last,
      Age: String(age),
      Gender: gender,
      Address: `${random.int(1, 9999)} ${random.pick(STREETS)}`,
      City: random.pick(CITIES),
      "Contact Number": `1${random.int(200, 989)}555${String(random.int(0, 9999)).padStart(4, "0")}`,
      Email: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com`,
      "Account Type": random.pick(["Current", "Savings"]),
      "Account Balance": money(balance),
      "Date Of Account Opening": formatBankingDate(opened),
      "Last Transaction Date": formatBankingDate(lastTransactionDate),
      TransactionID: String(i),
      "Transaction Date": formatBankingDate(transactionDate),
      "Transaction Type": type,
      "Transaction Amount": money(amount),
      "Account Balance After Transaction": money(after),
      "Branch ID": String(random.int(1, 100)),
      "Loan ID": String(i),
      "Loan Amount": money(loanAmount),
      "Loan Type": random.pick(["Mortgage", "Auto", "Personal"]),
      "Interest Rate": (1 + random.next() * 9).toFixed(2),
      "Loan Term": String(12 * random.int(1, 5)),
      "Approval/Rejection Date": formatBankingDate(dateBetween(random, yearStart, yearEnd)),
      "Loan Status": random.weighted(["Approved", "Closed", "Rejected"], [0.342, 0.332, 0.326]),
      CardID: String(i),
      "Card Type": random.pick(["AMEX", "MasterCard", "Visa"]),
      "Credit Limit": money(creditLimit),
      "Credit Card Balance": money(cardBalance),
      "Minimum Payment Due": money(cardBalance * 0.05),
      "Payment Due Date": formatBankingDate(dateBetween(random, yearStart, yearEnd)),
      "Last Credit Card Payment Date": formatBankingDate(dateBetween(random, yearStart, yearEnd)),
      "Rewards Points": String(random.int(0, 10_000)),
      "Feedback ID": String(i),
      "Feedback Date": formatBankingDate(feedbackDate),
      "Feedback Type": random.pick(["Complaint", "Praise", "Suggestion"]),
      "Resolution Status": resolved ? "Resolved" : "Pending",
      "Resolution Date": formatBankingDate(dateBetween(random, feedbackDate, feedbackDate + 30 * DAY_IN_MS)),
      Anomaly: anomaly,
    };
    records.push(record as BankingRecord);
  }
  return records;
}
