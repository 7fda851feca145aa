import FuzzSupport
import WireProtocol

// Properties of `RequestParser` on any frame:
// - it never crashes;
// - a refusal is one of the codes protocol/wire.md "Refused requests" gives a parser (`30`, `12`, `13`,
//   `14`), its echoed `type` and `id` fit their limits, and its response encodes to one frame that reads
//   back as the same type, id and code;
// - an accepted request written back (its `id` and its canonical fields) parses to the same request,
//   and its content fingerprint is JSON;
// - no full PAN sent in a `pan` field appears in a refusal's reason or an accepted request's description
//   (both go to the logs).

/// The codes a frame can get from the parser alone (protocol/wire.md, contract §3).
let parserCodes: Set<String> = ["30", "12", "13", "14"]
let maximumEchoedCharacters = 64
let maximumFrameBytes = 65_536

func fits(_ text: String, allowEmpty: Bool) -> Bool {
    (allowEmpty || !text.isEmpty) && text.unicodeScalars.count <= maximumEchoedCharacters
}

/// The 16-digit strings sent under a `pan` key, and the literal text of every number in the frame.
func collect(_ value: JSONValue, key: String?, pans: inout [String], numbers: inout [String]) {
    switch value {
    case .string(let text):
        if key == "pan", text.utf8.count == 16, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { pans.append(text) }
    case .int(let number): numbers.append(String(number))
    case .number(let literal): numbers.append(literal)
    case .array(let elements): for element in elements { collect(element, key: nil, pans: &pans, numbers: &numbers) }
    case .object(let members): for (name, member) in members { collect(member, key: name, pans: &pans, numbers: &numbers) }
    case .bool, .null: break
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let frame = fuzzBytes(data, size)
    var pans: [String] = []
    var numbers: [String] = []
    if let document = try? JSONValue.parse(frame) { collect(document, key: nil, pans: &pans, numbers: &numbers) }
    // A PAN's digits may legitimately appear as a number the request also sent (an amount, say).
    let secretPANs = pans.filter { pan in !numbers.contains { $0.contains(pan) } }

    let outcome = RequestParser.parse(frame)
    do {
        let request = try RequestParser.parseRequest(frame)
        fuzzCheck(outcome == .request(request), "parse and parseRequest disagree")
        fuzzCheck(fits(request.id, allowEmpty: false), "accepted an id of \(request.id.unicodeScalars.count) characters")
        guard case .object(let fields) = request.body.canonicalValue else {
            fuzzCheck(false, "a canonical value is not an object")
            return 0
        }
        let rewritten = JSONValue.object([("id", .string(request.id))] + fields).encoded()
        fuzzCheck(RequestParser.parse(rewritten) == .request(request),
                  "the request written back does not parse to itself: \(String(decoding: rewritten, as: UTF8.self).count) bytes")
        fuzzCheck((try? JSONValue.parse(request.contentFingerprint)) != nil, "the fingerprint is not JSON")
        let logged = request.body.description
        for pan in secretPANs { fuzzCheck(!logged.contains(pan), "a full PAN in a request's description") }
    } catch let rejection {
        fuzzCheck(outcome == rejection.outcome, "parse and parseRequest disagree on a refusal")
        fuzzCheck(parserCodes.contains(rejection.code.rawValue), "refused with code \(rejection.code.rawValue)")
        if let type = rejection.type { fuzzCheck(fits(type, allowEmpty: true), "echoes a type of \(type.unicodeScalars.count) characters") }
        if let id = rejection.id { fuzzCheck(fits(id, allowEmpty: false), "echoes an id of \(id.unicodeScalars.count) characters") }
        if rejection.code.rawValue != "30" { fuzzCheck(rejection.id != nil, "code \(rejection.code.rawValue) without an id") }
        let response = rejection.response.encode()
        fuzzCheck((1...maximumFrameBytes).contains(response.count), "a refusal of \(response.count) bytes does not fit a frame")
        let answer = try? JSONValue.parse(response)
        fuzzCheck(answer?["type"] == .string(rejection.type ?? "error"), "the refusal's type does not read back")
        fuzzCheck(answer?["id"] == (rejection.id.map { JSONValue.string($0) } ?? JSONValue.null), "the refusal's id does not read back")
        fuzzCheck(answer?["code"] == .string(rejection.code.rawValue), "the refusal's code does not read back")
        for pan in secretPANs { fuzzCheck(!rejection.reason.contains(pan), "a full PAN in a refusal's reason") }
    }
    return 0
}

@main
struct FuzzRequestParserMain {
    static func main() { runLibFuzzer(fuzzRequestParser) }
}
