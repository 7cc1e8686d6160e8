// SPDX-License-Identifier: Apache-2.0
// Digests and chain IDs against known values (sha256sum and the OCI spec's rule).
import SwinitImage
import Testing

struct DigestTests {
    @Test func sha256OfKnownInputs() {
        #expect(Digest.of(Array("".utf8)).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.of(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func onlyWellFormedSha256DigestsParse() {
        #expect(Digest("sha256:" + String(repeating: "a", count: 64)) != nil)
        #expect(Digest("sha512:" + String(repeating: "a", count: 64)) == nil)
        #expect(Digest("sha256:" + String(repeating: "A", count: 64)) == nil)
        #expect(Digest("sha256:../../etc/passwd") == nil)
        #expect(Digest("sha256:" + String(repeating: "a", count: 63)) == nil)
    }

    @Test func chainIDsFollowTheSpecRule() {
        let a = Digest.of(Array("a".utf8)), b = Digest.of(Array("b".utf8))
        let chain = Digest.chainIDs([a, b])
        #expect(chain[0] == a)
        #expect(chain[1] == Digest.of(Array("\(a) \(b)".utf8)))
    }
}
