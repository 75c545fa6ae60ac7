"""AES-256-GCM envelopes: round trip, tamper detection, binding to brand and integration,
master keys that are malformed, missing or wrong."""

from __future__ import annotations

import base64
import os
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.vault.conftest import new_key
from warroom_pipelines.vault.crypto import (
    FORMAT_VERSION,
    NONCE_BYTES,
    DecryptionError,
    InvalidMasterKey,
    MasterKeyring,
    MissingEncryptionKey,
    SealedSecret,
    UnknownMasterKey,
    UnsupportedFormat,
    new_data_key,
    seal,
    unseal,
    unwrap_data_key,
    wrap_data_key,
)

KEYRING = MasterKeyring.from_strings(new_key())
DATA_KEY_ID, DATA_KEY = new_data_key()

brands = st.sampled_from(["acme", "globex", "initech-2"])
integrations = st.sampled_from(["meta_ads", "google_ads", "slack"])


def flip(data: bytes, index: int, bit: int) -> bytes:
    return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]


def tamper(sealed: SealedSecret, field: str, index: int, bit: int = 0) -> SealedSecret:
    if field == "nonce":
        return replace(sealed, nonce=flip(sealed.nonce, index, bit))
    return replace(sealed, ciphertext=flip(sealed.ciphertext, index, bit))


@settings(max_examples=50, deadline=None)
@given(plaintext=st.binary(max_size=512), brand=brands, integration=integrations)
def test_secret_round_trip(plaintext: bytes, brand: str, integration: str) -> None:
    sealed = seal(DATA_KEY_ID, DATA_KEY, brand, integration, plaintext)
    assert unseal(DATA_KEY, brand, integration, sealed) == plaintext
    # Short strings can occur in random bytes by chance; 16 bytes cannot.
    assert len(plaintext) < 16 or plaintext not in sealed.ciphertext


def test_every_encryption_uses_a_fresh_nonce() -> None:
    nonces = {seal(DATA_KEY_ID, DATA_KEY, "acme", "slack", b"x").nonce for _ in range(200)}
    assert len(nonces) == 200
    assert all(len(n) == NONCE_BYTES for n in nonces)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), plaintext=st.binary(min_size=1, max_size=64))
def test_flipping_any_bit_of_nonce_ciphertext_or_tag_is_detected(
    data: st.DataObject, plaintext: bytes
) -> None:
    sealed = seal(DATA_KEY_ID, DATA_KEY, "acme", "meta_ads", plaintext)
    field = data.draw(st.sampled_from(["nonce", "ciphertext"]))
    value = getattr(sealed, field)
    index = data.draw(st.integers(0, len(value) - 1))  # the tag is the last 16 bytes
    tampered = tamper(sealed, field, index, data.draw(st.integers(0, 7)))
    with pytest.raises(DecryptionError):
        unseal(DATA_KEY, "acme", "meta_ads", tampered)


def test_every_byte_of_a_sealed_record_is_authenticated() -> None:
    sealed = seal(DATA_KEY_ID, DATA_KEY, "acme", "meta_ads", b'{"access_token": "t"}')
    for field in ("nonce", "ciphertext"):
        value = getattr(sealed, field)
        for index in range(len(value)):
            with pytest.raises(DecryptionError):
                unseal(DATA_KEY, "acme", "meta_ads", tamper(sealed, field, index))
    with pytest.raises(DecryptionError):
        unseal(DATA_KEY, "acme", "meta_ads", replace(sealed, ciphertext=sealed.ciphertext[:-1]))


def test_a_record_moved_to_another_brand_or_integration_does_not_decrypt() -> None:
    sealed = seal(DATA_KEY_ID, DATA_KEY, "acme", "meta_ads", b"secret")
    with pytest.raises(DecryptionError, match="globex"):
        unseal(DATA_KEY, "globex", "meta_ads", sealed)
    with pytest.raises(DecryptionError, match="tiktok_ads"):
        unseal(DATA_KEY, "acme", "tiktok_ads", sealed)
    _, other_key = new_data_key()
    with pytest.raises(DecryptionError):
        unseal(other_key, "acme", "meta_ads", sealed)


def test_an_unknown_format_version_is_refused() -> None:
    sealed = seal(DATA_KEY_ID, DATA_KEY, "acme", "meta_ads", b"secret")
    with pytest.raises(UnsupportedFormat, match=f"reads version {FORMAT_VERSION}"):
        unseal(DATA_KEY, "acme", "meta_ads", replace(sealed, format_version=FORMAT_VERSION + 1))
    wrapped = wrap_data_key(KEYRING, "acme", DATA_KEY_ID, DATA_KEY)
    with pytest.raises(UnsupportedFormat):
        unwrap_data_key(KEYRING, "acme", replace(wrapped, format_version=0))


def test_wrapped_data_key_round_trip_and_binding() -> None:
    wrapped = wrap_data_key(KEYRING, "acme", DATA_KEY_ID, DATA_KEY)
    assert wrapped.master_key_id == KEYRING.current.key_id
    assert DATA_KEY not in wrapped.ciphertext
    assert unwrap_data_key(KEYRING, "acme", wrapped) == DATA_KEY
    for index in range(len(wrapped.nonce)):
        with pytest.raises(DecryptionError):
            unwrap_data_key(KEYRING, "acme", replace(wrapped, nonce=flip(wrapped.nonce, index, 3)))
    for index in range(len(wrapped.ciphertext)):
        tampered = replace(wrapped, ciphertext=flip(wrapped.ciphertext, index, 5))
        with pytest.raises(DecryptionError):
            unwrap_data_key(KEYRING, "acme", tampered)
    # Associated data: brand and data key id are bound.
    with pytest.raises(DecryptionError, match="globex"):
        unwrap_data_key(KEYRING, "globex", wrapped)
    with pytest.raises(DecryptionError):
        unwrap_data_key(KEYRING, "acme", replace(wrapped, data_key_id="0" * 16))


def test_master_key_id_is_bound_to_the_wrap() -> None:
    old, new = new_key(), new_key()
    ring = MasterKeyring.from_strings(new, old)
    wrapped = wrap_data_key(MasterKeyring.from_strings(old), "acme", DATA_KEY_ID, DATA_KEY)
    assert unwrap_data_key(ring, "acme", wrapped) == DATA_KEY
    relabelled = replace(wrapped, master_key_id=ring.current.key_id)
    with pytest.raises(DecryptionError):
        unwrap_data_key(ring, "acme", relabelled)


def test_a_wrong_master_key_is_a_clear_error_without_key_material() -> None:
    right, wrong = new_key(), new_key()
    wrapped = wrap_data_key(MasterKeyring.from_strings(right), "acme", DATA_KEY_ID, DATA_KEY)
    with pytest.raises(UnknownMasterKey) as err:
        unwrap_data_key(MasterKeyring.from_strings(wrong), "acme", wrapped)
    message = str(err.value)
    assert wrapped.master_key_id in message
    assert "PERFORMANCE_ENCRYPTION_KEY" in message and "acme" in message
    assert right not in message and wrong not in message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not base64 at all!", "not valid base64"),
        (base64.b64encode(os.urandom(16)).decode(), "must decode to 32 bytes, got 16"),
        (base64.b64encode(os.urandom(33)).decode(), "got 33"),
        ("", "got 0"),
    ],
)
def test_malformed_master_keys_are_refused_without_echoing(value: str, problem: str) -> None:
    with pytest.raises(InvalidMasterKey, match=problem) as err:
        MasterKeyring.from_strings(value)
    assert value == "" or value not in str(err.value)
    with pytest.raises(InvalidMasterKey, match=r"PREVIOUS.*entry 2") as err:
        MasterKeyring.from_strings(new_key(), f"{new_key()},{value or 'AAAA'}")
    assert value == "" or value not in str(err.value)


def test_keyring_from_environment() -> None:
    current, old1, old2 = new_key(), new_key(), new_key()
    ring = MasterKeyring.from_env(
        {
            "PERFORMANCE_ENCRYPTION_KEY": current,
            "PERFORMANCE_ENCRYPTION_KEY_PREVIOUS": f" {old1} , {old2},",
        }
    )
    assert ring.current == MasterKeyring.from_strings(current).current
    assert len(ring.key_ids) == 3 and len(set(ring.key_ids)) == 3
    assert current not in repr(ring) and base64.b64decode(current).hex() not in repr(ring)
    with pytest.raises(MissingEncryptionKey):
        MasterKeyring.from_env({})
