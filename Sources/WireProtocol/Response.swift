import HDFDomain

/// One response: `{"type": .., "id": .., "code": .., "message": .., <fields in order>}`.
///
/// `message` is French and short enough for a terminal's display (`ResponseCode.defaultMessage`
/// unless a more precise one is given). Responses never carry a full PAN.
public struct Response: Sendable, Equatable {
    /// The request's type (`"error"` for a frame that had none).
    public var type: String
    /// The request's id, echoed; nil (`null`) when the frame had no valid one.
    public var id: String?
    public var code: ResponseCode
    public var message: String
    /// The type's own fields after the four common ones, in this order. No key may repeat
    /// `type`, `id`, `code` or `message`.
    public var fields: [(key: String, value: JSONValue)]

    public static let reservedKeys: Set<String> = ["type", "id", "code", "message"]

    public init(type: String, id: String?, code: ResponseCode, message: String? = nil,
                fields: [(key: String, value: JSONValue)] = []) {
        assert(fields.allSatisfy { !Response.reservedKeys.contains($0.key) }, "a field repeats a common key")
        self.type = type
        self.id = id
        self.code = code
        self.message = message ?? code.defaultMessage
        self.fields = fields
    }

    public init(to request: Request, code: ResponseCode, message: String? = nil,
                fields: [(key: String, value: JSONValue)] = []) {
        self.init(type: request.type.rawValue, id: request.id, code: code, message: message, fields: fields)
    }

    /// The answer to a refused frame: its type echoed, or `"error"` when it had none.
    public static func rejection(type: String?, id: String?, code: ResponseCode) -> Response {
        Response(type: type ?? "error", id: id, code: code)
    }

    public static func == (lhs: Response, rhs: Response) -> Bool {
        lhs.type == rhs.type && lhs.id == rhs.id && lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// The whole response as one JSON object.
    public var jsonValue: JSONValue {
        var members: [(String, JSONValue)] = [
            ("type", .string(type)), ("id", id.map { .string($0) } ?? .null),
            ("code", .string(code.rawValue)), ("message", .string(message)),
        ]
        members.reserveCapacity(4 + fields.count)
        for field in fields { members.append((field.key, field.value)) }
        return .object(members)
    }

    /// The UTF-8 JSON text of the response (one frame's payload), canonical as `JSONValue` encodes.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        encode(into: &out)
        return out
    }

    public func encode(into out: inout [UInt8]) {
        out.append(contentsOf: #"{"type":"#.utf8)
        JSONValue.encodeString(type, into: &out)
        out.append(contentsOf: #","id":"#.utf8)
        if let id { JSONValue.encodeString(id, into: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","code":""#.utf8)
        out.append(contentsOf: code.rawValue.utf8)
        out.append(contentsOf: #"","message":"#.utf8)
        JSONValue.encodeString(message, into: &out)
        for field in fields {
            out.append(UInt8(ascii: ","))
            JSONValue.encodeString(field.key, into: &out)
            out.append(UInt8(ascii: ":"))
            field.value.encode(into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case notJSON(JSONParseError)
        case notAnObject
        case missingOrInvalid(String)
        case unknownCode(String)
        case duplicateKey(String)

        public var description: String {
            switch self {
            case .notJSON(let error): return "stored response is not JSON: \(error)"
            case .notAnObject: return "stored response is not a JSON object"
            case .missingOrInvalid(let key): return "stored response has no valid \"\(key)\""
            case .unknownCode(let code): return "stored response has unknown code \"\(code)\""
            case .duplicateKey(let key): return "stored response has \"\(key)\" twice"
            }
        }
    }

    /// Reads back a response's bytes (as the gateway stores them). Encoding the result gives the same
    /// bytes again when they came from `encode()`.
    public init(decoding bytes: some Collection<UInt8>) throws(DecodingError) {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw .notJSON(error) }
        try self.init(value)
    }

    /// Reads a response from its JSON object; the common keys may be anywhere in it.
    public init(_ value: JSONValue) throws(DecodingError) {
        guard case .object(let members) = value else { throw .notAnObject }
        var type: String?, id: String??, code: ResponseCode?, message: String?
        var fields: [(key: String, value: JSONValue)] = []
        for (key, member) in members {
            switch key {
            case "type":
                guard type == nil else { throw .duplicateKey(key) }
                guard case .string(let text) = member else { throw .missingOrInvalid(key) }
                type = text
            case "id":
                guard id == nil else { throw .duplicateKey(key) }
                switch member {
                case .string(let text): id = .some(text)
                case .null: id = .some(nil)
                default: throw .missingOrInvalid(key)
                }
            case "code":
                guard code == nil else { throw .duplicateKey(key) }
                guard case .string(let text) = member else { throw .missingOrInvalid(key) }
                guard let known = ResponseCode(rawValue: text) else { throw .unknownCode(text) }
                code = known
            case "message":
                guard message == nil else { throw .duplicateKey(key) }
                guard case .string(let text) = member else { throw .missingOrInvalid(key) }
                message = text
            default:
                fields.append((key, member))
            }
        }
        guard let type else { throw .missingOrInvalid("type") }
        guard let id else { throw .missingOrInvalid("id") }
        guard let code else { throw .missingOrInvalid("code") }
        guard let message else { throw .missingOrInvalid("message") }
        self.type = type
        self.id = id
        self.code = code
        self.message = message
        self.fields = fields
    }

    /// The value of the first field named `key` (not the common ones).
    public subscript(field key: String) -> JSONValue? {
        fields.first(where: { $0.key == key })?.value
    }
}

extension Response: CustomStringConvertible {
    public var description: String { String(decoding: encode(), as: UTF8.self) }
}
