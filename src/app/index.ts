export { createPier, type Pier } from "./create-pier.js";
export { localRequest } from "./fetch.js";
