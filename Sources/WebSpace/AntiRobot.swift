import BeneficiaryOperations
import Crypto
import Foundation
import NIOConcurrencyHelpers

/// The anti-robot step of "Créer mon compte" (contract §9): a proof of work that the page's script solves by
/// itself, so that a person using a screen reader passes it without doing anything (the guide's image
/// captcha fails RGAA). A robot must spend the same CPU per account as a browser does.
///
/// A challenge is `v1.<expiresAtMillis>.<difficultyBits>.<random hex>.<HMAC-SHA256 hex>`: signed with a key
/// that lives only in this process's memory, so nobody can forge one or choose an easy one. The answer is a
/// decimal nonce such that SHA-256("<challenge>:<nonce>") starts with `difficultyBits` zero bits. A
/// challenge is accepted once (the used ones are remembered until they expire, a bounded set).
public final class AntiRobot: Sendable {
    /// Leading zero bits the answer's hash must have: a browser needs about 2^bits hashes on average
    /// (16 bits: ~65,000; headless Chromium here does a few hundred thousand a second, a phone fewer, and
    /// the number needed is random: docs/account-and-application.md). It slows a robot per account; the
    /// activation link and the SMS code are what tie an account to a person. The named setting of the
    /// issue; `beneficiary serve --anti-robot-bits` changes it.
    public static let defaultDifficultyBits = 16
    public static let maximumDifficultyBits = 28
    /// How long a challenge may be answered: the time to fill the form.
    public static let challengeLifetimeMillis: Int64 = 30 * 60 * 1_000
    /// Used challenges remembered at most (each until it expires); past this, new answers are refused
    /// until some expire: a flood of accounts cannot grow the memory.
    public static let maximumRememberedChallenges = 100_000
    public static let fieldChallenge = "defi"
    public static let fieldAnswer = "preuve"

    public let difficultyBits: Int
    private let key: SymmetricKey
    /// Used challenge → its expiry (millis).
    private let used = NIOLockedValueBox<[String: Int64]>([:])

    public init(difficultyBits: Int = defaultDifficultyBits) {
        precondition((1...Self.maximumDifficultyBits).contains(difficultyBits), "difficulty out of range")
        self.difficultyBits = difficultyBits
        self.key = SymmetricKey(size: .bits256)
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case missing, forged, expired, wrongAnswer, alreadyUsed, busy
        public var description: String {
            switch self {
            case .missing:
                return "La vérification anti-robot n'est pas terminée : attends qu'elle s'affiche comme terminée, puis clique à nouveau sur « Créer le compte »."
            case .forged, .wrongAnswer:
                return "La vérification anti-robot a échoué : clique à nouveau sur « Créer le compte »."
            case .expired, .alreadyUsed:
                return "La vérification anti-robot a expiré : elle recommence, attends qu'elle soit terminée puis clique à nouveau sur « Créer le compte »."
            case .busy:
                return "Trop de comptes sont créés en ce moment : réessaie dans quelques minutes."
            }
        }
    }

    public func challenge(nowMillis: Int64 = AntiRobot.nowMillis()) -> String {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let body = "v1.\(nowMillis + Self.challengeLifetimeMillis).\(difficultyBits).\(random)"
        return body + "." + signature(body)
    }

    /// Checks an answer and uses the challenge up.
    public func verify(challenge: String, answer: String, nowMillis: Int64 = AntiRobot.nowMillis()) throws(Refusal) {
        guard !challenge.isEmpty, !answer.isEmpty else { throw .missing }
        let parts = challenge.split(separator: ".", omittingEmptySubsequences: false)
        guard challenge.utf8.count <= 200, parts.count == 5, parts[0] == "v1", let expires = Int64(parts[1]),
              let bits = Int(parts[2]), bits == difficultyBits else { throw .forged }
        let body = parts[0...3].joined(separator: ".")
        guard Self.constantTimeEqual(signature(body), String(parts[4])) else { throw .forged }
        guard expires > nowMillis else { throw .expired }
        guard answer.count <= 20, answer.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .wrongAnswer }
        guard Self.leadingZeroBits(SHA256.hash(data: Array("\(challenge):\(answer)".utf8))) >= bits else { throw .wrongAnswer }
        let outcome: Refusal? = used.withLockedValue { used in
            if used.count >= Self.maximumRememberedChallenges { used = used.filter { $0.value > nowMillis } }
            if used[challenge] != nil { return .alreadyUsed }
            if used.count >= Self.maximumRememberedChallenges { return .busy }
            used[challenge] = expires
            return nil
        }
        if let outcome { throw outcome }
    }

    /// Solves a challenge as the page's script does (the tests use it; so could a robot, at the same cost).
    public static func solve(_ challenge: String, bits: Int) -> String {
        var nonce = 0
        while leadingZeroBits(SHA256.hash(data: Array("\(challenge):\(nonce)".utf8))) < bits { nonce += 1 }
        return String(nonce)
    }

    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    private func signature(_ body: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }

    static func leadingZeroBits(_ digest: SHA256.Digest) -> Int {
        var count = 0
        for byte in digest {
            if byte == 0 { count += 8; continue }
            count += byte.leadingZeroBitCount
            break
        }
        return count
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool { ConstantTime.equal(a, b) }

    /// The page's script (served as `/anti-robot.js`, the only script of the site; the CSP allows scripts
    /// from the site itself and nothing inline). SHA-256 is written out here rather than taken from
    /// `crypto.subtle`: that one exists only on HTTPS or localhost pages and answers asynchronously, one
    /// promise per hash, far slower for hundreds of thousands of tiny inputs.
    public static let script = #"""
    "use strict";
    (function () {
      var K = [0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,
        0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,
        0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
        0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,
        0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,
        0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2];
      var W = new Int32Array(64);
      // The message's words, reused from one hash to the next (no allocation per hash): up to 8 blocks.
      var words = new Int32Array(8 * 16);
      // SHA-256 of an ASCII string (at most 8 × 64 − 9 characters); returns the first 32-bit word of the digest
      // and the second (enough to count up to 64 leading zero bits).
      function sha256Head(text) {
        var length = text.length, blocks = ((length + 9 + 63) >> 6), i;
        words.fill(0, 0, blocks * 16);
        for (i = 0; i < length; i++) { words[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - (i & 3) * 8); }
        words[length >> 2] |= 0x80 << (24 - (length & 3) * 8);
        words[blocks * 16 - 1] = length * 8;
        var h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a, h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
        for (var block = 0; block < blocks; block++) {
          for (i = 0; i < 16; i++) { W[i] = words[block * 16 + i]; }
          for (i = 16; i < 64; i++) {
            var x = W[i - 15], y = W[i - 2];
            var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
            var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
            W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
          }
          var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
          for (i = 0; i < 64; i++) {
            var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
            var t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
            var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
            var t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
            h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
          }
          h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
          h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
        }
        return [h0 >>> 0, h1 >>> 0];
      }
      function zeroBits(head) {
        if (head[0] !== 0) { return Math.clz32(head[0]); }
        return 32 + Math.clz32(head[1]);
      }
      var form = document.querySelector("form[data-anti-robot]");
      if (!form) { return; }
      var challenge = form.querySelector("input[name=defi]").value;
      var answer = form.querySelector("input[name=preuve]");
      var status = document.getElementById("anti-robot-statut");
      var bits = parseInt(challenge.split(".")[2], 10);
      var nonce = 0, solved = false, submitWhenSolved = false, started = Date.now();
      status.textContent = "Vérification anti-robot en cours, patiente quelques secondes…";
      function work() {
        var stop = Date.now() + 50;
        while (Date.now() < stop) {
          for (var n = 0; n < 2000; n++, nonce++) {
            if (zeroBits(sha256Head(challenge + ":" + nonce)) >= bits) {
              answer.value = String(nonce);
              solved = true;
              status.textContent = "Vérification anti-robot terminée : tu peux créer ton compte.";
              form.setAttribute("data-anti-robot", "ok");
              // How long the work took, for the tests' figure (docs/bench.md).
              form.setAttribute("data-anti-robot-ms", String(Date.now() - started));
              form.setAttribute("data-anti-robot-hashes", String(nonce + 1));
              if (submitWhenSolved) { form.submit(); }
              return;
            }
          }
        }
        setTimeout(work, 0);
      }
      form.addEventListener("submit", function (event) {
        if (!solved) {
          event.preventDefault();
          submitWhenSolved = true;
          status.textContent = "Vérification anti-robot presque terminée : ton compte sera créé dans un instant…";
        }
      });
      setTimeout(work, 0);
    })();
    """#
}
