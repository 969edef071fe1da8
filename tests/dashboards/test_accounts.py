import pytest

from dashboards.accounts import accounts_db, add_account, authenticate, list_accounts


def test_an_account_signs_in_with_its_password_only(tmp_path):
    con = accounts_db(tmp_path)
    password = add_account(con, "li.dcrc", "dealer_manager", dealer_code="D001")
    assert authenticate(con, "li.dcrc", password).dealer_code == "D001"
    assert authenticate(con, "li.dcrc", password + "x") is None
    assert authenticate(con, "nobody", password) is None
    assert [a.name for a in list_accounts(con)] == ["li.dcrc"]


def test_scoped_roles_need_their_scope(tmp_path):
    con = accounts_db(tmp_path)
    with pytest.raises(ValueError, match="--dealer"):
        add_account(con, "x", "dealer_manager")
    with pytest.raises(ValueError, match="--region"):
        add_account(con, "y", "region_manager")
    with pytest.raises(ValueError, match="unknown role"):
        add_account(con, "z", "boss")
