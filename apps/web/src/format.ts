/**
 * How figures read on the page: @meshplan/units' figures and @meshplan/planner's words (`text.ts`), the
 * same the `meshplan` command prints, so that a figure on the page and the command's line
 * for it can be compared character for character.
 *
 * @example
 * secondsText(0.0686) // '68.6 ms'
 * count(954650.9) // '954,651'
 */
export { bytesText, count, percent, rate, rateText, secondsText, share } from '@meshplan/units'
export { valueTextOf, verdictText, type VerdictOf } from '@meshplan/planner'
