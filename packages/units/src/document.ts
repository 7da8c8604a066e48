/**
 * Reading the text of a user's file (JSON or YAML) into an untyped value, ready for
 * a codec. Syntax errors come back as values with the line and column.
 *
 * @example
 * import { parseDocument } from '@meshplan/units'
 * parseDocument('nodes: 16\n', 'cluster.yaml') // right({ nodes: 16 })
 */
import * as E from 'fp-ts/Either'
import { parse as parseYaml, YAMLParseError } from 'yaml'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The syntaxes a user's file may be written in. */
export type DocumentFormat = 'json' | 'yaml'

/** A file that is not well-formed JSON or YAML. */
export interface DocumentError {
  readonly file: string
  readonly format: DocumentFormat
  readonly message: string
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The format of a file by its name: `.yaml` and `.yml` are YAML, anything else JSON. */
export const formatOf = (fileName: string): DocumentFormat => (/\.ya?ml$/i.test(fileName) ? 'yaml' : 'json')

/** Parses the text of `fileName` (format from its extension unless given). Never throws. */
export const parseDocument = (
  text: string,
  fileName: string,
  format: DocumentFormat = formatOf(fileName),
): E.Either<DocumentError, unknown> => {
  try {
    return E.right(format === 'yaml' ? parseYaml(text, { prettyErrors: true, uniqueKeys: true }) : JSON.parse(text))
  } catch (cause) {
    const message =
      cause instanceof YAMLParseError || cause instanceof SyntaxError ? cause.message.split('\n')[0] ?? '' : String(cause)
    return E.left({ file: fileName, format, message: `${fileName}: not valid ${format.toUpperCase()}: ${message}` })
  }
}
