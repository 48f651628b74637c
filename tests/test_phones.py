"""Vietnamese phone numbers in every usual form."""

import pytest

from tracker import phones


@pytest.mark.parametrize(
    "raw",
    ["0901888484", "84901888484", "+84901888484", "+84 90 188 8484", "090 188 8484", "(090) 188-8484", "0084901888484"],
)
def test_usual_forms_normalise_to_e164(raw):
    assert phones.normalize(raw) == "+84901888484"


@pytest.mark.parametrize(
    "raw,why",
    [
        ("", "required"),
        ("12345", "valid"),
        ("+14155552671", "Vietnamese"),
        ("abc", "phone"),
        ("02438251234", "mobile"),
        ("0" * 40, "long"),
    ],
)
def test_bad_numbers_say_why(raw, why):
    with pytest.raises(ValueError, match=why):
        phones.normalize(raw)


def test_esms_form_is_national():
    assert phones.to_esms("+84901888484") == "0901888484"


def test_zalo_user_ids_are_not_phones():
    assert phones.e164_or_none("312158068343230") is None
    assert phones.e164_or_none("0901888484") == "+84901888484"


# The 2018 conversion of 11-digit mobile numbers, network by network: old prefix -> new.
CONVERSION = {
    "Viettel": {
        "0162": "032",
        "0163": "033",
        "0164": "034",
        "0165": "035",
        "0166": "036",
        "0167": "037",
        "0168": "038",
        "0169": "039",
    },
    "Mobifone": {"0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078"},
    "Vinaphone": {"0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082"},
    "Vietnamobile": {"0186": "056", "0188": "058"},
    "Gmobile": {"0199": "059"},
}


@pytest.mark.parametrize("network", sorted(CONVERSION))
def test_old_eleven_digit_numbers_take_their_2018_prefix(network):
    for old, new in CONVERSION[network].items():
        assert phones.normalize(old + "8123456") == "+84" + new[1:] + "8123456", (network, old)
        assert phones.converted(old + "8123456") == "+84" + new[1:] + "8123456"


def test_the_table_is_the_whole_conversion():
    assert phones.CONVERTED_PREFIXES == {
        old[1:]: new[1:] for table in CONVERSION.values() for old, new in table.items()
    }


@pytest.mark.parametrize(
    "raw",
    [
        "0168 812 3456",
        "01688123456",
        "841688123456",
        "+84 168 812 3456",
        "+841688123456",
        "00841688123456",
        "(0168) 812-3456",
        "0168.812.3456",
        "1688123456",
    ],
)
def test_old_numbers_in_every_usual_form(raw):
    assert phones.normalize(raw) == "+84388123456"
    assert phones.converted(raw) == "+84388123456"


@pytest.mark.parametrize(
    "raw",
    [
        "0388123456",
        "+84 38 812 3456",
        "0901888484",
        "01708123456",
        "0168812345",
        "016881234567",
        "+1 168 812 3456",
        "０1688123456",
        "",
    ],
)
def test_only_old_forms_are_converted(raw):
    assert phones.converted(raw) is None


@pytest.mark.parametrize("raw", ["01708123456", "016881234567", "0168812345"])
def test_eleven_digits_outside_the_table_are_still_refused(raw):
    with pytest.raises(ValueError):
        phones.normalize(raw)
