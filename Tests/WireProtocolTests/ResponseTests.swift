import HDFDomain
import NIOCore
import Testing
@testable import WireProtocol

@Suite("Responses")
struct ResponseTests {
    private func text(_ response: Response) -> String { String(decoding: response.encode(), as: UTF8.self) }

    @Test("the common keys first, in order, then the fields in order")
    func keyOrder() {
        let response = Response(type: "purchase", id: "p-1", code: .approved, fields: [
            ("txn", .string("T000001")), ("auth_code", .string("A1B2C3")), ("amount", .int(1250)),
            ("wallet", .string("MANUELS")), ("balance", .int(8750)),
        ])
        #expect(text(response) == #"{"type":"purchase","id":"p-1","code":"00","message":"Accepté","txn":"T000001","auth_code":"A1B2C3","amount":1250,"wallet":"MANUELS","balance":8750}"#)
    }

    @Test("a frame without type or id is answered as an error with id null")
    func errorResponse() {
        #expect(text(Response.rejection(type: nil, id: nil, code: .formatError))
                == #"{"type":"error","id":null,"code":"30","message":"Erreur de format"}"#)
        #expect(text(Response.rejection(type: nil, id: "x", code: .formatError))
                == #"{"type":"error","id":"x","code":"30","message":"Erreur de format"}"#)
        #expect(text(Response.rejection(type: "refund", id: "x", code: .invalidTransaction))
                == #"{"type":"refund","id":"x","code":"12","message":"Opération invalide"}"#)
    }

    @Test("the message defaults to the code's French message", arguments: ResponseCode.allCases)
    func defaultMessages(_ code: ResponseCode) throws {
        let response = Response(type: "echo", id: "1", code: code)
        #expect(response.message == code.defaultMessage)
        let decoded = try Response(decoding: response.encode())
        #expect(decoded == response)
    }

    @Test("echoed ids and types are escaped; French stays UTF-8")
    func escaping() {
        let response = Response(type: "t\"\\", id: "a\u{0}b\nc\u{1F}é", code: .approved, message: "Déjà « payé »")
        #expect(text(response) == #"{"type":"t\"\\","id":"a\u0000b\nc\u001fé","code":"00","message":"Déjà « payé »"}"#)
    }

    @Test("a response decodes back, and re-encodes to the same bytes")
    func roundTrip() throws {
        let response = Response(type: "balance", id: "b-1", code: .approved, fields: [
            ("wallets", .array([
                .object([("code", .string("MANUELS")), ("label", .string("Manuels et équipement")),
                         ("balance", .int(10_000)), ("expires", .string("2027-05-26")), ("usable_here", .bool(true))]),
                .object([("code", .string("TRANSPORT")), ("label", .string("Aide au transport")),
                         ("balance", .int(0)), ("expires", .string("2026-01-31")), ("usable_here", .bool(false))]),
            ])),
        ])
        let bytes = response.encode()
        let decoded = try Response(decoding: bytes)
        #expect(decoded == response)
        #expect(decoded.encode() == bytes)
        #expect(decoded[field: "wallets"]?.arrayValue?.count == 2)
    }

    @Test("status embeds a stored response unchanged")
    func statusEmbedsOriginal() throws {
        let original = Response(type: "purchase", id: "p-7", code: .partialApproval, fields: [
            ("txn", .string("T9")), ("auth_code", .string("ZZ9ZZ9")), ("amount", .int(300)),
            ("wallet", .string("RESTAURATION")), ("balance", .int(0)),
        ]).encode()
        let stored = try JSONValue.parse(original)
        let status = Response(type: "status", id: "s-1", code: .approved, fields: [("original", stored)])
        let bytes = status.encode()
        let expectedPrefix = Array(#"{"type":"status","id":"s-1","code":"00","message":"Accepté","original":"#.utf8)
        #expect(Array(bytes.prefix(expectedPrefix.count)) == expectedPrefix)
        #expect(Array(bytes.dropFirst(expectedPrefix.count).dropLast()) == original)
        let decoded = try Response(decoding: bytes)
        #expect(decoded[field: "original"]?.encoded() == original)
    }

    @Test("decoding accepts the common keys anywhere and a null id")
    func decodingOrder() throws {
        let response = try Response(decoding: Array(#"{"txn":"T","message":"Refusé","code":"05","id":null,"type":"purchase"}"#.utf8))
        #expect(response.type == "purchase")
        #expect(response.id == nil)
        #expect(response.code == .doNotHonour)
        #expect(response.fields.count == 1)
        #expect(String(decoding: response.encode(), as: UTF8.self)
                == #"{"type":"purchase","id":null,"code":"05","message":"Refusé","txn":"T"}"#)
    }

    @Test("decoding refuses what is not a response", arguments: [
        ("[]", Response.DecodingError.notAnObject),
        (#"{"id":"1","code":"00","message":"m"}"#, .missingOrInvalid("type")),
        (#"{"type":"echo","code":"00","message":"m"}"#, .missingOrInvalid("id")),
        (#"{"type":"echo","id":1,"code":"00","message":"m"}"#, .missingOrInvalid("id")),
        (#"{"type":"echo","id":"1","message":"m"}"#, .missingOrInvalid("code")),
        (#"{"type":"echo","id":"1","code":"99","message":"m"}"#, .unknownCode("99")),
        (#"{"type":"echo","id":"1","code":"00"}"#, .missingOrInvalid("message")),
        (#"{"type":"echo","id":"1","code":"00","code":"00","message":"m"}"#, .duplicateKey("code")),
    ])
    func decodingRefuses(_ text: String, _ expected: Response.DecodingError) {
        #expect(throws: expected) { try Response(decoding: Array(text.utf8)) }
    }

    @Test("ByteBuffer encoding and decoding")
    func byteBuffer() throws {
        let response = Response(type: "echo", id: "e", code: .approved, fields: [("server_time", .string("2026-11-26T22:19:23+01:00"))])
        var buffer = ByteBuffer()
        response.encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == response.encode())
        #expect(try Response(decoding: buffer) == response)
        #expect(response.encodedBuffer(allocator: ByteBufferAllocator()) == buffer)
    }

    @Test("every French message fits a terminal's display (32 characters)", arguments: ResponseCode.allCases)
    func messagesFit(_ code: ResponseCode) {
        #expect(code.defaultMessage.count <= 32)
    }
}
