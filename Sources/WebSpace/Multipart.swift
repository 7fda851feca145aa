import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// A `multipart/form-data` body (the forms that carry a file), parsed by MultipartKit's parser with our
/// limits: one file per form, text fields short, few parts.
struct MultipartFields: Sendable {
    /// Text parts (no `filename`), by name.
    let values: [String: String]
    /// File parts, by name: the file's bytes (an empty file input sends an empty part, kept out).
    let files: [String: [UInt8]]

    /// Parts in one form at most; a text part's bytes at most.
    static let maximumParts = 32
    static let maximumTextPartBytes = 4 * 1024

    struct Malformed: Error {}

    static func isMultipart(_ request: Request) -> Bool {
        (request.headers[.contentType] ?? "").lowercased().hasPrefix("multipart/form-data")
    }

    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return (1...70).contains(value.count) ? value : nil
            }
        }
        return nil
    }

    init(body: ByteBuffer, contentType: String) throws {
        guard let boundary = Self.boundary(contentType) else { throw Malformed() }
        let parser = MultipartParser(boundary: boundary)
        var values: [String: String] = [:], files: [String: [UInt8]] = [:]
        var headers: [(String, String)] = [], bytes: [UInt8] = [], parts = 0, tooMany = false
        parser.onHeader = { name, value in headers.append((name.lowercased(), value)) }
        parser.onBody = { buffer in bytes.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            defer { headers = []; bytes = [] }
            parts += 1
            guard parts <= Self.maximumParts else { tooMany = true; return }
            let disposition = headers.first { $0.0 == "content-disposition" }?.1 ?? ""
            guard let name = Self.parameter("name", in: disposition) else { return }
            if Self.parameter("filename", in: disposition) != nil {
                if !bytes.isEmpty { files[name] = bytes }
            } else if bytes.count <= Self.maximumTextPartBytes {
                values[name] = String(decoding: bytes, as: UTF8.self)
            }
        }
        try parser.execute(body)
        guard !tooMany else { throw Malformed() }
        self.values = values
        self.files = files
    }

    /// `name="x"` in a Content-Disposition header.
    static func parameter(_ wanted: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == wanted {
                return pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
            }
        }
        return nil
    }

    var form: FormFields { FormFields(values: values) }
}
