// Tests of the device tokens file, the token lookup and the per-request
// decision (auth/token_store.h). Files are written to a fresh temporary
// directory per test.
#include "auth/token_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "temp_files_test_base.h"

namespace gpsrelay::auth {
namespace {

using namespace std::string_literals;

// SHA-256("abc"), FIPS 180-2 appendix B.1, in both spellings of hex.
constexpr std::string_view kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view kAbcSha256Upper =
    "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
// SHA-256(""): a hash line the parser must refuse.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TokenStore parse(std::string_view text) { return TokenStore::parse(text, "tokens"); }

// The message of the TokenFileError that parsing `text` throws, or a note
// that it threw none.
std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const TokenFileError& error) {
    return error.what();
  }
  return "(no error)";
}

// ---- The file grammar ----

TEST(TokenStoreParse, AcceptsEachListedTokenAndNothingElse) {
  const TokenStore store = parse("alpha-1\nbravo.2\ncharlie_3\n");
  EXPECT_EQ(store.size(), 3u);
  EXPECT_TRUE(store.accepts("alpha-1"));
  EXPECT_TRUE(store.accepts("bravo.2"));
  EXPECT_TRUE(store.accepts("charlie_3"));
  EXPECT_FALSE(store.accepts("delta"));
}

TEST(TokenStoreParse, TokensAreCaseSensitiveAndMatchWhole) {
  const TokenStore store = parse("Secret42\n");
  EXPECT_TRUE(store.accepts("Secret42"));
  EXPECT_FALSE(store.accepts("secret42"));
  EXPECT_FALSE(store.accepts("SECRET42"));
  EXPECT_FALSE(store.accepts("Secret4"));
  EXPECT_FALSE(store.accepts("Secret420"));
  EXPECT_FALSE(store.accepts("Secret42\n"));
  EXPECT_FALSE(store.accepts(" Secret42"));
  EXPECT_FALSE(store.accepts("Secret42\0"s));
}

TEST(TokenStoreParse, NeverAcceptsAnEmptyToken) { EXPECT_FALSE(parse("abc\n").accepts("")); }

TEST(TokenStoreParse, ReadsALastLineWithoutNewline) {
  const TokenStore store = parse("first\nlast");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.accepts("last"));
}

TEST(TokenStoreParse, SkipsBlankAndCommentLines) {
  const TokenStore store = parse(
      "# devices of depot 4\n"
      "\n"
      "   \t \n"
      "  # an indented comment\n"
      "#disabled-token\n"
      "truck-17\n");
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.accepts("truck-17"));
  EXPECT_FALSE(store.accepts("#disabled-token"));
  EXPECT_FALSE(store.accepts("disabled-token"));
}

TEST(TokenStoreParse, TrimsSpacesAndTabsAroundATokenLine) {
  const TokenStore store = parse("   padded \t\n\tTabbed\n");
  EXPECT_TRUE(store.accepts("padded"));
  EXPECT_TRUE(store.accepts("Tabbed"));
  EXPECT_FALSE(store.accepts("   padded \t"));
}

TEST(TokenStoreParse, ReadsCrlfFiles) {
  const TokenStore store = parse("# from Windows\r\nalpha\r\n\r\nbravo # note\r\n");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.accepts("alpha"));
  EXPECT_TRUE(store.accepts("bravo"));
  EXPECT_FALSE(store.accepts("alpha\r"));
}

TEST(TokenStoreParse, IgnoresAUtf8ByteOrderMark) {
  const TokenStore store = parse("\xef\xbb\xbftoken-one\n");
  EXPECT_TRUE(store.accepts("token-one"));
  EXPECT_FALSE(store.accepts("\xef\xbb\xbftoken-one"));
}

TEST(TokenStoreParse, AllowsACommentAfterTheToken) {
  const TokenStore store = parse("k3Jq9x  # truck 17, caf\xc3\xa9 \x01 anything\nm4Zp\t#tab\n");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.accepts("k3Jq9x"));
  EXPECT_TRUE(store.accepts("m4Zp"));
}

TEST(TokenStoreParse, AHashInsideATokenIsPartOfIt) {
  const TokenStore store = parse("ab#cd\n");
  EXPECT_TRUE(store.accepts("ab#cd"));
  EXPECT_FALSE(store.accepts("ab"));
}

TEST(TokenStoreParse, AcceptsEveryVisibleAsciiCharacter) {
  const std::string token = "!\"$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~#";
  EXPECT_TRUE(parse(token + "\n").accepts(token));
}

TEST(TokenStoreParse, CountsARepeatedTokenOnce) {
  const TokenStore store = parse("abc\nabc\nsha256:" + std::string(kAbcSha256) + "\nother\n");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.accepts("abc"));
}

// ---- sha256: lines ----

TEST(TokenStoreHashLines, AcceptsTheTokenWhoseDigestIsListed) {
  const TokenStore store = parse("sha256:" + std::string(kAbcSha256) + "\n");
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.accepts("abc"));
  EXPECT_FALSE(store.accepts("abd"));
  // The line is a digest, not a clear token.
  EXPECT_FALSE(store.accepts("sha256:" + std::string(kAbcSha256)));
}

TEST(TokenStoreHashLines, AcceptsUpperAndMixedCaseHexAndPrefix) {
  EXPECT_TRUE(parse("sha256:" + std::string(kAbcSha256Upper)).accepts("abc"));
  EXPECT_TRUE(parse("SHA256:" + std::string(kAbcSha256)).accepts("abc"));
  std::string mixed(kAbcSha256);
  for (std::size_t i = 0; i < mixed.size(); i += 2) mixed[i] = kAbcSha256Upper[i];
  EXPECT_TRUE(parse("Sha256:" + mixed + "\n").accepts("abc"));
}

TEST(TokenStoreHashLines, AllowsSurroundingSpaceAndAComment) {
  EXPECT_TRUE(parse("  sha256:" + std::string(kAbcSha256) + "  # depot 4\r\n").accepts("abc"));
}

TEST(TokenStoreHashLines, MixesWithClearTokens) {
  const TokenStore store = parse("clear-one\nsha256:" + std::string(kAbcSha256) + "\n");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.accepts("clear-one"));
  EXPECT_TRUE(store.accepts("abc"));
}

TEST(TokenStoreHashLines, RejectsTheWrongNumberOfDigits) {
  const std::string hex(kAbcSha256);
  EXPECT_EQ(error_of("sha256:" + hex.substr(1)),
            "tokens:1: expected 64 hex digits after 'sha256:', found 63 characters");
  EXPECT_EQ(error_of("sha256:" + hex + "0"),
            "tokens:1: expected 64 hex digits after 'sha256:', found 65 characters");
  EXPECT_EQ(error_of("sha256:"),
            "tokens:1: expected 64 hex digits after 'sha256:', found 0 characters");
}

TEST(TokenStoreHashLines, RejectsANonHexDigitAndNamesItsColumn) {
  std::string hex(kAbcSha256);
  hex[10] = 'g';
  EXPECT_EQ(error_of("sha256:" + hex), "tokens:1: not a hex digit at column 18 after 'sha256:'");
  hex = std::string(kAbcSha256);
  hex[63] = 'x';
  EXPECT_EQ(error_of("  sha256:" + hex), "tokens:1: not a hex digit at column 73 after 'sha256:'");
}

TEST(TokenStoreHashLines, RejectsTheDigestOfTheEmptyToken) {
  EXPECT_EQ(error_of("ok\nsha256:" + std::string(kEmptySha256) + "\n"),
            "tokens:2: this is the SHA-256 of the empty token, which is never accepted");
}

// ---- Errors ----

TEST(TokenStoreErrors, AnEmptyFileHasNoTokens) {
  const std::string expected =
      "tokens: contains no tokens; with auth.mode = token every request would be refused";
  EXPECT_EQ(error_of(""), expected);
  EXPECT_EQ(error_of("\n\n  \r\n"), expected);
  EXPECT_EQ(error_of("# all devices disabled\n# old-token\n"), expected);
}

TEST(TokenStoreErrors, NoTokensIsAnErrorOfTheWholeFile) {
  try {
    parse("# nothing\n");
    FAIL() << "no TokenFileError";
  } catch (const TokenFileError& error) {
    EXPECT_EQ(error.where(), "tokens");
    EXPECT_EQ(error.line(), 0u);
  }
}

TEST(TokenStoreErrors, RejectsSpacesInsideAToken) {
  EXPECT_EQ(error_of("two words\n"),
            "tokens:1: unexpected text after the token at column 5; a token cannot contain "
            "spaces or tabs, and a comment after it starts with '#'");
  EXPECT_NE(error_of("two\twords\n").find("tokens:1: unexpected text after the token at column 5"),
            std::string::npos);
}

TEST(TokenStoreErrors, RejectsControlCharacters) {
  EXPECT_EQ(error_of("ab\001c\n"),
            "tokens:1: token contains a control character at column 3; tokens are visible ASCII "
            "(0x21-0x7E)");
  EXPECT_NE(error_of("ab\rcd\n").find("tokens:1: token contains a control character at column 3"),
            std::string::npos);
  EXPECT_NE(error_of("a\x7f\n").find("control character at column 2"), std::string::npos);
  EXPECT_NE(error_of("ab\0c\n"s).find("control character at column 3"), std::string::npos);
  EXPECT_NE(error_of("a\vb\n").find("control character at column 2"), std::string::npos);
}

TEST(TokenStoreErrors, RejectsNonAsciiBytes) {
  EXPECT_EQ(error_of("caf\xc3\xa9\n"),
            "tokens:1: token contains a non-ASCII byte at column 4; tokens are visible ASCII "
            "(0x21-0x7E)");
}

TEST(TokenStoreErrors, NameTheLineCountingBlankCommentAndCrlfLines) {
  try {
    parse("# header\r\n\r\ngood-one\r\n   \r\n# c\r\nbad token\r\nlater\r\n");
    FAIL() << "no TokenFileError";
  } catch (const TokenFileError& error) {
    EXPECT_EQ(error.where(), "tokens");
    EXPECT_EQ(error.line(), 6u);
    EXPECT_EQ(error.message().substr(0, 41), "unexpected text after the token at column");
  }
}

TEST(TokenStoreErrors, ReportTheFirstBadLine) {
  EXPECT_EQ(error_of("ok\nsha256:00\nbad token\n").substr(0, 9), "tokens:2:");
}

TEST(TokenStoreErrors, NeverQuoteTheToken) {
  for (const std::string& text :
       {"s3cr3t-value trailing\n"s, "s3cr3t-value\x01\n"s, "sha256:s3cr3t-value\n"s}) {
    const std::string message = error_of(text);
    EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
    EXPECT_NE(message, "(no error)");
  }
}

// ---- Many tokens ----

TEST(TokenStoreLookup, FindsEveryTokenOfALargeSet) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "device-" + std::to_string(i) + "\n";
  const TokenStore store = parse(text);
  EXPECT_EQ(store.size(), 2000u);
  for (int i = 0; i < 2000; ++i) EXPECT_TRUE(store.accepts("device-" + std::to_string(i))) << i;
  EXPECT_FALSE(store.accepts("device-2000"));
  EXPECT_FALSE(store.accepts("device-"));
}

// ---- load_file ----

class TokenStoreFileTest : public testing_support::TempFilesTest {
 protected:
  static std::string error_of_file(const std::string& path) {
    try {
      TokenStore::load_file(path);
    } catch (const TokenFileError& error) {
      EXPECT_EQ(error.where(), path);
      return error.what();
    }
    return "(no error)";
  }
};

TEST_F(TokenStoreFileTest, LoadsAFile) {
  const std::string path =
      write("tokens", "# depot 4\r\nalpha\r\nsha256:" + std::string(kAbcSha256) + "\r\n");
  const TokenStore store = TokenStore::load_file(path);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.accepts("alpha"));
  EXPECT_TRUE(store.accepts("abc"));
}

TEST_F(TokenStoreFileTest, AMissingFileNamesThePath) {
  const std::string path = (dir_ / "missing").string();
  EXPECT_EQ(error_of_file(path), path + ": cannot open: No such file or directory");
}

TEST_F(TokenStoreFileTest, ADirectoryIsRefused) {
  EXPECT_EQ(error_of_file(dir_.string()), dir_.string() + ": is a directory");
}

TEST_F(TokenStoreFileTest, AFifoIsRefusedWithoutBlocking) {
  const std::string path = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  // Opening a FIFO for reading blocks until a writer appears; keep one open.
  const int writer = open(path.c_str(), O_RDWR | O_NONBLOCK);
  ASSERT_GE(writer, 0);
  EXPECT_EQ(error_of_file(path), path + ": is not a regular file");
  close(writer);
}

TEST_F(TokenStoreFileTest, ParseErrorsNameThePathAndLine) {
  const std::string path = write("tokens", "good\nsha256:abc\n");
  EXPECT_EQ(error_of_file(path),
            path + ":2: expected 64 hex digits after 'sha256:', found 3 characters");
}

TEST_F(TokenStoreFileTest, AnEmptyFileIsAnError) {
  const std::string path = write("tokens", "");
  EXPECT_EQ(error_of_file(path),
            path + ": contains no tokens; with auth.mode = token every request would be refused");
}

TEST_F(TokenStoreFileTest, AFileAtTheSizeLimitLoadsAndOneByteMoreIsRefused) {
  std::string contents = "tok\n";
  contents.resize(kMaxTokensFileBytes, '\n');
  const std::string at_limit = write("at_limit", contents);
  EXPECT_EQ(TokenStore::load_file(at_limit).size(), 1u);
  contents += '\n';
  const std::string over = write("over", contents);
  EXPECT_EQ(error_of_file(over), over + ": is larger than 16m bytes");
}

// ---- bearer_token ----

TEST(BearerTokenTest, ExtractsTheToken) {
  EXPECT_EQ(bearer_token("Bearer abc123"), "abc123");
  EXPECT_EQ(bearer_token("Bearer mF_9.B5f-4.1JqM"), "mF_9.B5f-4.1JqM");
  EXPECT_EQ(bearer_token("Bearer dGVzdA=="), "dGVzdA==");
}

TEST(BearerTokenTest, MatchesTheSchemeCaseInsensitively) {
  EXPECT_EQ(bearer_token("bearer t"), "t");
  EXPECT_EQ(bearer_token("BEARER t"), "t");
  EXPECT_EQ(bearer_token("BeArEr t"), "t");
}

TEST(BearerTokenTest, ToleratesExtraSpacesAndTabs) {
  EXPECT_EQ(bearer_token("  Bearer   t  "), "t");
  EXPECT_EQ(bearer_token("Bearer\tt"), "t");
  EXPECT_EQ(bearer_token("\tBearer \t t\t"), "t");
}

TEST(BearerTokenTest, AcceptsAnyVisibleAsciiInTheToken) {
  EXPECT_EQ(bearer_token("Bearer !#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
            "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
}

TEST(BearerTokenTest, ReturnsAViewIntoTheHeader) {
  const std::string header = "Bearer token-value";
  const std::string_view token = bearer_token(header);
  EXPECT_EQ(token.data(), header.data() + 7);
}

TEST(BearerTokenTest, ReturnsEmptyWhenAbsentOrMalformed) {
  for (const std::string_view value :
       {"", " ", "Bearer", "Bearer ", "Bearer   ", "Bearer\t", "Bearerabc", "Bearer:abc",
        "Basic dXNlcjpwYXNz", "Token abc", "Bearer a b", "Bearer a\tb", "abc", "Bear abc",
        "Bearer a\r\n", "Bearer a\nb", "Bearer caf\xc3\xa9", "Bearer a\x7f", " Bearer, abc"}) {
    EXPECT_EQ(bearer_token(value), "") << value;
  }
  EXPECT_EQ(bearer_token("Bearer a\0b"s), "");
}

// ---- api_key_token ----

TEST(ApiKeyTokenTest, ReturnsTheTrimmedValue) {
  EXPECT_EQ(api_key_token("k3Jq9x"), "k3Jq9x");
  EXPECT_EQ(api_key_token(" \tk3Jq9x\t "), "k3Jq9x");
  EXPECT_EQ(api_key_token("!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
}

TEST(ApiKeyTokenTest, ReturnsAViewIntoTheHeader) {
  const std::string header = "  key-value";
  EXPECT_EQ(api_key_token(header).data(), header.data() + 2);
}

TEST(ApiKeyTokenTest, ReturnsEmptyWhenBlankOrMalformed) {
  for (const std::string_view value :
       {"", " ", "\t", "a b", "a\tb", "a\r\n", "caf\xc3\xa9", "a\x7f", "\x01"}) {
    EXPECT_EQ(api_key_token(value), "") << value;
  }
  EXPECT_EQ(api_key_token("a\0b"s), "");
}

// ---- check ----

class AuthCheckTest : public testing::Test {
 protected:
  AuthResult check_headers(std::optional<std::string_view> authorization,
                           std::optional<std::string_view> api_key) const {
    return check(store_, authorization, api_key);
  }

  const TokenStore store_ = TokenStore::parse("good-token\nsha256:" + std::string(kAbcSha256), "t");
};

TEST_F(AuthCheckTest, NoHeaderIsMissing) {
  EXPECT_EQ(check_headers(std::nullopt, std::nullopt), AuthResult::kMissing);
}

TEST_F(AuthCheckTest, AcceptsAKnownBearerToken) {
  EXPECT_EQ(check_headers("Bearer good-token", std::nullopt), AuthResult::kAccepted);
  EXPECT_EQ(check_headers("Bearer abc", std::nullopt), AuthResult::kAccepted);
  EXPECT_EQ(check_headers("  Bearer \t good-token  ", std::nullopt), AuthResult::kAccepted);
}

TEST_F(AuthCheckTest, MatchesTheBearerSchemeCaseInsensitively) {
  // RFC 7235 section 2.1: the auth-scheme is a case-insensitive token.
  for (const std::string_view header :
       {"bearer good-token", "BEARER good-token", "bEaReR good-token"}) {
    EXPECT_EQ(check_headers(header, std::nullopt), AuthResult::kAccepted) << header;
  }
}

TEST_F(AuthCheckTest, AcceptsAKnownApiKey) {
  EXPECT_EQ(check_headers(std::nullopt, "good-token"), AuthResult::kAccepted);
  EXPECT_EQ(check_headers(std::nullopt, " abc\t"), AuthResult::kAccepted);
}

TEST_F(AuthCheckTest, AnUnknownTokenIsUnknown) {
  EXPECT_EQ(check_headers("Bearer wrong", std::nullopt), AuthResult::kUnknown);
  EXPECT_EQ(check_headers(std::nullopt, "wrong"), AuthResult::kUnknown);
  // The scheme is case-insensitive; the token is not.
  EXPECT_EQ(check_headers("Bearer GOOD-TOKEN", std::nullopt), AuthResult::kUnknown);
  // X-API-Key carries the bare token: a scheme there is part of it.
  EXPECT_EQ(check_headers(std::nullopt, "Bearer"), AuthResult::kUnknown);
}

TEST_F(AuthCheckTest, AnUnusableHeaderIsMalformed) {
  for (const std::string_view header :
       {"", "   ", "Bearer", "Bearer ", "Basic Z29vZC10b2tlbg==", "good-token", "Bearer good token",
        "Bearergood-token", "Bearer good-token\r\n"}) {
    EXPECT_EQ(check_headers(header, std::nullopt), AuthResult::kMalformed) << header;
  }
  for (const std::string_view key : {"", " ", "good token", "good-token\x01"}) {
    EXPECT_EQ(check_headers(std::nullopt, key), AuthResult::kMalformed) << key;
  }
  EXPECT_EQ(check_headers("Basic x", ""), AuthResult::kMalformed);
}

TEST_F(AuthCheckTest, EitherHeaderWithAKnownTokenIsEnough) {
  EXPECT_EQ(check_headers("Bearer good-token", "abc"), AuthResult::kAccepted);
  EXPECT_EQ(check_headers("Bearer good-token", "wrong"), AuthResult::kAccepted);
  EXPECT_EQ(check_headers("Bearer wrong", "good-token"), AuthResult::kAccepted);
  EXPECT_EQ(check_headers("Basic Z29vZA==", "good-token"), AuthResult::kAccepted);
  EXPECT_EQ(check_headers("Bearer good-token", "not valid"), AuthResult::kAccepted);
}

TEST_F(AuthCheckTest, AWellFormedUnknownTokenOutranksAMalformedHeader) {
  EXPECT_EQ(check_headers("Bearer wrong", "wrong too"), AuthResult::kUnknown);
  EXPECT_EQ(check_headers("Basic x", "wrong"), AuthResult::kUnknown);
  EXPECT_EQ(check_headers("Bearer wrong", "also-wrong"), AuthResult::kUnknown);
}

TEST(FailureReasonTest, NamesTheMetricLabels) {
  EXPECT_EQ(failure_reason(AuthResult::kMissing), "missing");
  EXPECT_EQ(failure_reason(AuthResult::kMalformed), "malformed");
  EXPECT_EQ(failure_reason(AuthResult::kUnknown), "unknown");
  EXPECT_EQ(failure_reason(AuthResult::kAccepted), "");
}

}  // namespace
}  // namespace gpsrelay::auth
