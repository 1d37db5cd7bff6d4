package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims of Parley's access tokens.
const (
	issuer    = "parley"
	audience  = "parley-api"
	tokenType = "access"
	clockSkew = 30 * time.Second
)

// accessClaims is the JWT payload: the user as subject, the session id, and
// a type that keeps any other token of ours from passing as an access token.
type accessClaims struct {
	SessionID string `json:"sid"`
	Type      string `json:"typ"`
	jwt.RegisteredClaims
}

// signer issues and checks HS256 access tokens with one key.
type signer struct {
	key    []byte
	parser *jwt.Parser
}

func newSigner(key []byte) *signer {
	return &signer{key: key, parser: jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(clockSkew),
	)}
}

func (s *signer) sign(p Principal, now time.Time) (string, time.Time, error) {
	exp := now.Add(AccessTTL)
	claims := accessClaims{
		SessionID: p.SessionID,
		Type:      tokenType,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   strconv.FormatInt(p.UserID, 10),
			Audience:  jwt.ClaimStrings{audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
	return tok, exp, err
}

func (s *signer) parse(token string) (Principal, error) {
	var claims accessClaims
	_, err := s.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return s.key, nil })
	if err != nil || claims.Type != tokenType || claims.SessionID == "" {
		return Principal{}, ErrBadToken
	}
	uid, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || uid <= 0 {
		return Principal{}, ErrBadToken
	}
	return Principal{UserID: uid, SessionID: claims.SessionID}, nil
}

// randomToken returns n random bytes, base64url encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return base64.RawURLEncoding.EncodeToString(b)
}

// refreshToken is "<session id>.<secret>"; only the secret's hash is stored.
func newRefreshToken(sessionID string) (token, hash string) {
	secret := randomToken(32)
	return sessionID + "." + secret, hashSecret(secret)
}

func splitRefreshToken(token string) (sessionID, hash string, err error) {
	sid, secret, ok := strings.Cut(token, ".")
	if !ok || sid == "" || secret == "" {
		return "", "", errors.New("malformed refresh token")
	}
	return sid, hashSecret(secret), nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
