// Credentials, models and default-model slots on SQLite.
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kCredentialColumns =
    "SELECT c.id, c.name, c.provider, c.modalities, c.api_key_ciphertext, c.api_key_nonce, c.api_key_version, "
    "c.base_url, c.endpoint, c.api_version, c.endpoint_llm, c.endpoint_embedding, c.endpoint_stt, c.endpoint_tts, "
    "c.project, c.location, c.credentials_path, c.num_ctx, c.created, c.updated, "
    "(SELECT count(*) FROM model m WHERE m.credential_id = c.id) FROM credential c ";

std::vector<std::string> ParseStringArray(const std::string& text) {
  std::vector<std::string> values;
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return values;
  for (const auto& item : parsed) {
    if (item.is_string()) values.push_back(item.get<std::string>());
  }
  return values;
}

Credential ReadCredential(const Statement& row) {
  Credential credential;
  credential.id = row.Text(0);
  credential.name = row.Text(1);
  credential.provider = row.Text(2);
  credential.modalities = ParseStringArray(row.Text(3));
  if (!row.IsNull(4)) credential.api_key = SealedApiKey{row.Text(4), row.Text(5), row.Text(6)};
  credential.base_url = row.OptionalText(7);
  credential.endpoint = row.OptionalText(8);
  credential.api_version = row.OptionalText(9);
  credential.endpoint_llm = row.OptionalText(10);
  credential.endpoint_embedding = row.OptionalText(11);
  credential.endpoint_stt = row.OptionalText(12);
  credential.endpoint_tts = row.OptionalText(13);
  credential.project = row.OptionalText(14);
  credential.location = row.OptionalText(15);
  credential.credentials_path = row.OptionalText(16);
  if (!row.IsNull(17)) credential.num_ctx = row.Int(17);
  credential.created = row.Text(18);
  credential.updated = row.Text(19);
  credential.model_count = row.Int(20);
  return credential;
}

Result<Credential> SelectCredential(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kCredentialColumns) + "WHERE c.id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("credential " + id + " was not found");
  return ReadCredential(statement);
}

// Binds every stored column of `credential` to ?1..?20 in kCredentialColumns order.
void BindCredential(Statement& statement, const Credential& credential) {
  nlohmann::json modalities = credential.modalities;
  statement.Bind(1, credential.id).Bind(2, credential.name).Bind(3, credential.provider).Bind(4, modalities.dump());
  if (credential.api_key) {
    statement.Bind(5, credential.api_key->ciphertext).Bind(6, credential.api_key->nonce);
    statement.Bind(7, credential.api_key->key_version);
  } else {
    statement.BindNull(5).BindNull(6).BindNull(7);
  }
  statement.BindOptional(8, credential.base_url).BindOptional(9, credential.endpoint);
  statement.BindOptional(10, credential.api_version).BindOptional(11, credential.endpoint_llm);
  statement.BindOptional(12, credential.endpoint_embedding).BindOptional(13, credential.endpoint_stt);
  statement.BindOptional(14, credential.endpoint_tts).BindOptional(15, credential.project);
  statement.BindOptional(16, credential.location).BindOptional(17, credential.credentials_path);
  if (credential.num_ctx) {
    statement.Bind(18, *credential.num_ctx);
  } else {
    statement.BindNull(18);
  }
  statement.Bind(19, credential.created).Bind(20, credential.updated);
}

constexpr std::string_view kModelColumns =
    "SELECT id, name, provider, type, credential_id, created, updated FROM model ";

Model ReadModel(const Statement& row) {
  Model model;
  model.id = row.Text(0);
  model.name = row.Text(1);
  model.provider = row.Text(2);
  model.type = row.Text(3);
  model.credential_id = row.OptionalText(4);
  model.created = row.Text(5);
  model.updated = row.Text(6);
  return model;
}

Result<Model> SelectModel(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kModelColumns) + "WHERE id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("model " + id + " was not found");
  return ReadModel(statement);
}

// The id of the model with the same provider, name and type ignoring case, if one exists.
Result<std::optional<std::string>> FindDuplicateModel(Connection& db, const Model& model) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(
      "SELECT id FROM model WHERE lower(provider) = lower(?1) AND lower(name) = lower(?2) AND type = ?3"));
  statement.Bind(1, model.provider).Bind(2, model.name).Bind(3, model.type);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(statement.Text(0));
}

Status InsertModel(Connection& db, const Model& model) {
  ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
      "INSERT INTO model (id, name, provider, type, credential_id, created, updated) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"));
  insert.Bind(1, model.id).Bind(2, model.name).Bind(3, model.provider).Bind(4, model.type);
  insert.BindOptional(5, model.credential_id).Bind(6, model.created);
  return insert.Run();
}

// Empties the default-model slots that name models about to be deleted, stamping the change.
// `where` selects the models by ?1.
Status ClearSlotsOfModels(Connection& db, std::string_view where, const std::string& key, const std::string& now) {
  ON_ASSIGN_OR_RETURN(auto clear, db.Prepare(
      "UPDATE default_model SET model_id = NULL, updated = ?2 WHERE model_id IN (SELECT id FROM model WHERE " +
      std::string(where) + ")"));
  clear.Bind(1, key).Bind(2, now);
  return clear.Run();
}

Result<DefaultModels> SelectDefaultModels(Connection& db) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare("SELECT slot, model_id, updated FROM default_model"));
  DefaultModels stored;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    stored.slots.push_back({statement.Text(0), statement.OptionalText(1), statement.Text(2)});
  }

  // Return the slots in the API's order, and every slot even if a row went missing.
  DefaultModels ordered;
  for (std::string_view slot : kDefaultModelSlots) {
    DefaultModelSlot entry{std::string(slot), std::nullopt, ""};
    for (const auto& row : stored.slots) {
      if (row.slot == slot) entry = row;
    }
    ordered.slots.push_back(std::move(entry));
  }
  return ordered;
}

bool IsDefaultSlot(std::string_view slot) {
  for (std::string_view known : kDefaultModelSlots) {
    if (known == slot) return true;
  }
  return false;
}

}  // namespace

Result<Credential> SqliteStorage::CreateCredential(const Credential& input) {
  return writer_->Run<Credential>([&](Connection& db) -> Result<Credential> {
    Credential credential = input;
    credential.created = credential.updated = NowTimestamp();
    credential.model_count = 0;
    ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
        "INSERT INTO credential (id, name, provider, modalities, api_key_ciphertext, api_key_nonce, api_key_version, "
        "base_url, endpoint, api_version, endpoint_llm, endpoint_embedding, endpoint_stt, endpoint_tts, project, "
        "location, credentials_path, num_ctx, created, updated) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"));
    BindCredential(insert, credential);
    ON_RETURN_IF_ERROR(insert.Run());
    return credential;
  });
}

Result<Credential> SqliteStorage::GetCredential(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectCredential(*reader, id);
}

Result<std::vector<Credential>> SqliteStorage::ListCredentials(const std::optional<std::string>& provider) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(
      std::string(kCredentialColumns) + "WHERE (?1 IS NULL OR c.provider = ?1) ORDER BY c.created, c.id"));
  statement.BindOptional(1, provider);
  std::vector<Credential> credentials;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    credentials.push_back(ReadCredential(statement));
  }
  return credentials;
}

Result<Credential> SqliteStorage::UpdateCredential(const std::string& id,
                                                   const std::function<Status(Credential&)>& change) {
  return writer_->Run<Credential>([&](Connection& db) -> Result<Credential> {
    ON_ASSIGN_OR_RETURN(Credential credential, SelectCredential(db, id));
    ON_RETURN_IF_ERROR(change(credential));
    credential.id = id;
    credential.updated = NowTimestamp();
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
        "UPDATE credential SET name = ?2, provider = ?3, modalities = ?4, api_key_ciphertext = ?5, "
        "api_key_nonce = ?6, api_key_version = ?7, base_url = ?8, endpoint = ?9, api_version = ?10, "
        "endpoint_llm = ?11, endpoint_embedding = ?12, endpoint_stt = ?13, endpoint_tts = ?14, project = ?15, "
        "location = ?16, credentials_path = ?17, num_ctx = ?18, updated = ?20 WHERE id = ?1 AND created = ?19"));
    BindCredential(update, credential);
    ON_RETURN_IF_ERROR(update.Run());
    if (db.Changes() == 0) return InternalError("credential " + id + " changed its creation time during an update");
    return credential;
  });
}

Result<CredentialDeleteResult> SqliteStorage::DeleteCredential(const std::string& id,
                                                               const std::optional<std::string>& migrate_to) {
  return writer_->Run<CredentialDeleteResult>([&](Connection& db) -> Result<CredentialDeleteResult> {
    ON_ASSIGN_OR_RETURN(Credential credential, SelectCredential(db, id));
    CredentialDeleteResult result;
    const std::string now = NowTimestamp();

    if (migrate_to) {
      if (*migrate_to == id) return InvalidInput("migrate_to must name another credential than " + id);
      ON_ASSIGN_OR_RETURN(Credential target, SelectCredential(db, *migrate_to));
      if (target.provider != credential.provider) {
        return InvalidInput("migrate_to credential " + target.id + " is for provider " + target.provider + ", but " +
                            id + " is for " + credential.provider + "; choose a credential of the same provider");
      }
      ON_ASSIGN_OR_RETURN(auto move, db.Prepare("UPDATE model SET credential_id = ?2, updated = ?3 WHERE credential_id = ?1"));
      move.Bind(1, id).Bind(2, target.id).Bind(3, now);
      ON_RETURN_IF_ERROR(move.Run());
      result.migrated_models = db.Changes();
    } else {
      ON_RETURN_IF_ERROR(ClearSlotsOfModels(db, "credential_id = ?1", id, now));
      ON_ASSIGN_OR_RETURN(auto remove_models, db.Prepare("DELETE FROM model WHERE credential_id = ?1"));
      remove_models.Bind(1, id);
      ON_RETURN_IF_ERROR(remove_models.Run());
      result.deleted_models = db.Changes();
    }

    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM credential WHERE id = ?1"));
    remove.Bind(1, id);
    ON_RETURN_IF_ERROR(remove.Run());
    return result;
  });
}

Result<int64_t> SqliteStorage::ResealApiKeys(
    const std::function<Result<std::optional<SealedApiKey>>(const Credential&)>& reseal) {
  return writer_->Run<int64_t>([&](Connection& db) -> Result<int64_t> {
    std::vector<Credential> credentials;
    {
      ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(
          std::string(kCredentialColumns) + "WHERE c.api_key_ciphertext IS NOT NULL ORDER BY c.created, c.id"));
      for (;;) {
        ON_ASSIGN_OR_RETURN(bool row, statement.Step());
        if (!row) break;
        credentials.push_back(ReadCredential(statement));
      }
    }

    int64_t changed = 0;
    for (const Credential& credential : credentials) {
      ON_ASSIGN_OR_RETURN(std::optional<SealedApiKey> sealed, reseal(credential));
      if (!sealed) continue;
      // `updated` stays: the credential's settings did not change, only how its key is stored.
      ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
          "UPDATE credential SET api_key_ciphertext = ?2, api_key_nonce = ?3, api_key_version = ?4 WHERE id = ?1"));
      update.Bind(1, credential.id).Bind(2, sealed->ciphertext).Bind(3, sealed->nonce).Bind(4, sealed->key_version);
      ON_RETURN_IF_ERROR(update.Run());
      ++changed;
    }
    return changed;
  });
}

Result<Model> SqliteStorage::CreateModel(const Model& input) {
  return writer_->Run<Model>([&](Connection& db) -> Result<Model> {
    if (input.credential_id) {
      ON_ASSIGN_OR_RETURN(Credential credential, SelectCredential(db, *input.credential_id));
      if (credential.provider != input.provider) {
        return InvalidInput("credential " + credential.id + " is for provider " + credential.provider +
                            ", not " + input.provider + "; link the model to a credential of its provider");
      }
    }
    ON_ASSIGN_OR_RETURN(auto duplicate, FindDuplicateModel(db, input));
    if (duplicate) {
      return InvalidInput("a " + input.type + " model named '" + input.name + "' already exists for provider " +
                          input.provider + " (" + *duplicate + "); names are compared ignoring case");
    }

    Model model = input;
    model.id = NewId("model");
    model.created = model.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(InsertModel(db, model));
    return model;
  });
}

Result<Model> SqliteStorage::GetModel(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectModel(*reader, id);
}

Result<std::vector<Model>> SqliteStorage::ListModels(const ModelQuery& query) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(
      std::string(kModelColumns) +
      "WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR lower(provider) = lower(?2)) "
      "ORDER BY provider, type, lower(name), id"));
  statement.BindOptional(1, query.type).BindOptional(2, query.provider);
  std::vector<Model> models;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    models.push_back(ReadModel(statement));
  }
  return models;
}

Status SqliteStorage::DeleteModel(const std::string& id) {
  auto result = writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_RETURN_IF_ERROR(ClearSlotsOfModels(db, "id = ?1", id, NowTimestamp()));
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM model WHERE id = ?1"));
    remove.Bind(1, id);
    ON_RETURN_IF_ERROR(remove.Run());
    if (db.Changes() == 0) return NotFound("model " + id + " was not found");
    return true;
  });
  return result.status();
}

Result<ModelRegistration> SqliteStorage::RegisterModels(const std::string& credential_id,
                                                        const std::vector<Model>& models) {
  return writer_->Run<ModelRegistration>([&](Connection& db) -> Result<ModelRegistration> {
    ON_ASSIGN_OR_RETURN(Credential credential, SelectCredential(db, credential_id));
    ModelRegistration registration;
    const std::string now = NowTimestamp();
    for (const Model& input : models) {
      if (input.provider != credential.provider) {
        return InvalidInput("model '" + input.name + "' is for provider " + input.provider + ", but credential " +
                            credential_id + " is for " + credential.provider);
      }
      ON_ASSIGN_OR_RETURN(auto duplicate, FindDuplicateModel(db, input));
      if (duplicate) {
        ++registration.existing;
        continue;
      }
      Model model = input;
      model.id = NewId("model");
      model.credential_id = credential_id;
      model.created = model.updated = now;
      ON_RETURN_IF_ERROR(InsertModel(db, model));
      ++registration.created;
    }
    return registration;
  });
}

Result<int64_t> SqliteStorage::LinkUnassignedModels(const std::string& provider, const std::string& credential_id) {
  return writer_->Run<int64_t>([&](Connection& db) -> Result<int64_t> {
    ON_ASSIGN_OR_RETURN(auto link, db.Prepare(
        "UPDATE model SET credential_id = ?2, updated = ?3 WHERE credential_id IS NULL AND lower(provider) = lower(?1)"));
    link.Bind(1, provider).Bind(2, credential_id).Bind(3, NowTimestamp());
    ON_RETURN_IF_ERROR(link.Run());
    return db.Changes();
  });
}

Result<DefaultModels> SqliteStorage::GetDefaultModels() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectDefaultModels(*reader);
}

Result<DefaultModels> SqliteStorage::SetDefaultModels(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  return writer_->Run<DefaultModels>([&](Connection& db) -> Result<DefaultModels> {
    const std::string now = NowTimestamp();
    for (const auto& [slot, model_id] : changes) {
      if (!IsDefaultSlot(slot)) return InvalidInput("'" + slot.substr(0, 64) + "' is not a default-model slot");
      if (model_id) {
        ON_ASSIGN_OR_RETURN(Model model, SelectModel(db, *model_id));
        const std::string_view expected = DefaultSlotModelType(slot);
        if (model.type != expected) {
          return InvalidInput(slot + " needs a " + std::string(expected) + " model, but " + model.id + " (" +
                              model.name + ") is a " + model.type + " model");
        }
      }
      // Only a real change moves `updated`, so setting the same model again triggers nothing.
      ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
          "UPDATE default_model SET model_id = ?2, updated = ?3 WHERE slot = ?1 AND model_id IS NOT ?2"));
      update.Bind(1, slot).BindOptional(2, model_id).Bind(3, now);
      ON_RETURN_IF_ERROR(update.Run());
      if (db.Changes() > 0) ON_RETURN_IF_ERROR(BumpConfigVersion(db, now));
    }
    return SelectDefaultModels(db);
  });
}

}  // namespace on::storage::sqlite
