"""Vietnamese phone numbers in every usual form."""

import pytest

from tracker import phones


@pytest.mark.parametrize("raw", ["0901888484", "84901888484", "+84901888484", "+84 90 188 8484",
                                 "090 188 8484", "(090) 188-8484", "0084901888484"])
def test_usual_forms_normalise_to_e164(raw):
    assert phones.normalize(raw) == "+84901888484"


@pytest.mark.parametrize("raw,why", [
    ("", "required"), ("12345", "valid"), ("+14155552671", "Vietnamese"), ("abc", "phone"),
    ("02438251234", "mobile"), ("0" * 40, "long"),
])
def test_bad_numbers_say_why(raw, why):
    with pytest.raises(ValueError, match=why):
        phones.normalize(raw)


def test_esms_form_is_national():
    assert phones.to_esms("+84901888484") == "0901888484"


def test_zalo_user_ids_are_not_phones():
    assert phones.e164_or_none("312158068343230") is None
    assert phones.e164_or_none("0901888484") == "+84901888484"
