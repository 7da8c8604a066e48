/**
 * What the page's SVG drawings share: escaping text for markup, and number formatting
 * for axes.
 */

/** `text` safe inside SVG or HTML markup, as element text or an attribute value. */
export const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')

/** A coordinate with at most two decimals. */
export const coordinate = (x: number): string => String(Math.round(x * 100) / 100)

/** An axis tick's number: `1.5k`, `20`, `0.25`. */
export const tickText = (x: number): string => {
  const magnitude = Math.abs(x)
  if (magnitude >= 1e6) return `${Number((x / 1e6).toPrecision(3))}M`
  if (magnitude >= 1e3) return `${Number((x / 1e3).toPrecision(3))}k`
  return String(Number(x.toPrecision(3)))
}
