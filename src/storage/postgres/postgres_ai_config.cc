// Credentials, models and default-model slots on PostgreSQL.
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {
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

Credential ReadCredential(const Rows& rows, int row) {
  Credential credential;
  credential.id = rows.Text(row, 0);
  credential.name = rows.Text(row, 1);
  credential.provider = rows.Text(row, 2);
  credential.modalities = ParseStringArray(rows.Text(row, 3));
  if (!rows.IsNull(row, 4)) credential.api_key = SealedApiKey{rows.Text(row, 4), rows.Text(row, 5), rows.Text(row, 6)};
  credential.base_url = rows.OptionalText(row, 7);
  credential.endpoint = rows.OptionalText(row, 8);
  credential.api_version = rows.OptionalText(row, 9);
  credential.endpoint_llm = rows.OptionalText(row, 10);
  credential.endpoint_embedding = rows.OptionalText(row, 11);
  credential.endpoint_stt = rows.OptionalText(row, 12);
  credential.endpoint_tts = rows.OptionalText(row, 13);
  credential.project = rows.OptionalText(row, 14);
  credential.location = rows.OptionalText(row, 15);
  credential.credentials_path = rows.OptionalText(row, 16);
  credential.num_ctx = rows.OptionalInt(row, 17);
  credential.created = rows.Text(row, 18);
  credential.updated = rows.Text(row, 19);
  credential.model_count = rows.Int(row, 20);
  return credential;
}

// Reads the credential; with `lock`, first locks its row until the transaction ends.
Result<Credential> SelectCredential(Connection& db, const std::string& id, bool lock) {
  if (lock) {
    ON_ASSIGN_OR_RETURN(auto locked, db.Query("SELECT 1 FROM credential WHERE id = $1 FOR UPDATE", Params().Add(id)));
    if (locked.empty()) return NotFound("credential " + id + " was not found");
  }
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kCredentialColumns) + "WHERE c.id = $1", Params().Add(id)));
  if (rows.empty()) return NotFound("credential " + id + " was not found");
  return ReadCredential(rows, 0);
}

// Every stored column of `credential` as $1..$20, in kCredentialColumns order.
Params CredentialParams(const Credential& credential) {
  Params params;
  params.Add(credential.id).Add(credential.name).Add(credential.provider).Add(nlohmann::json(credential.modalities).dump());
  if (credential.api_key) {
    params.Add(credential.api_key->ciphertext).Add(credential.api_key->nonce).Add(credential.api_key->key_version);
  } else {
    params.AddNull().AddNull().AddNull();
  }
  params.Add(credential.base_url).Add(credential.endpoint).Add(credential.api_version).Add(credential.endpoint_llm);
  params.Add(credential.endpoint_embedding).Add(credential.endpoint_stt).Add(credential.endpoint_tts);
  params.Add(credential.project).Add(credential.location).Add(credential.credentials_path);
  if (credential.num_ctx) {
    params.Add(*credential.num_ctx);
  } else {
    params.AddNull();
  }
  params.Add(credential.created).Add(credential.updated);
  return params;
}

constexpr std::string_view kModelColumns = "SELECT id, name, provider, type, credential_id, created, updated FROM model ";

Model ReadModel(const Rows& rows, int row) {
  Model model;
  model.id = rows.Text(row, 0);
  model.name = rows.Text(row, 1);
  model.provider = rows.Text(row, 2);
  model.type = rows.Text(row, 3);
  model.credential_id = rows.OptionalText(row, 4);
  model.created = rows.Text(row, 5);
  model.updated = rows.Text(row, 6);
  return model;
}

// Reads the model; FOR SHARE keeps it from being deleted before the caller's transaction ends.
Result<Model> SelectModel(Connection& db, const std::string& id, bool share_lock) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kModelColumns) + "WHERE id = $1" + (share_lock ? " FOR SHARE" : ""),
                                          Params().Add(id)));
  if (rows.empty()) return NotFound("model " + id + " was not found");
  return ReadModel(rows, 0);
}

std::string DuplicateModelMessage(const Model& model, const std::string& existing_id) {
  return "a " + model.type + " model named '" + model.name + "' already exists for provider " + model.provider + " (" +
         existing_id + "); names are compared ignoring case";
}

// Inserts `model` unless one with the same provider, name and type (ignoring case) exists.
// Returns the id of the existing model, or nullopt when `model` was inserted. The unique index
// decides, so this holds even when another process inserts the same model at the same moment.
Result<std::optional<std::string>> InsertModelUnlessDuplicate(Connection& db, const Model& model) {
  ON_ASSIGN_OR_RETURN(auto inserted, db.Query("INSERT INTO model (id, name, provider, type, credential_id, created, updated) "
                                              "VALUES ($1, $2, $3, $4, $5, $6, $6) "
                                              "ON CONFLICT (lower(provider), lower(name), type) DO NOTHING RETURNING id",
                                              Params()
                                                  .Add(model.id)
                                                  .Add(model.name)
                                                  .Add(model.provider)
                                                  .Add(model.type)
                                                  .Add(model.credential_id)
                                                  .Add(model.created)));
  if (!inserted.empty()) return std::optional<std::string>();
  ON_ASSIGN_OR_RETURN(auto existing, db.Query("SELECT id FROM model WHERE lower(provider) = lower($1) "
                                              "AND lower(name) = lower($2) AND type = $3",
                                              Params().Add(model.provider).Add(model.name).Add(model.type)));
  return std::optional<std::string>(existing.empty() ? std::string("unknown") : existing.Text(0, 0));
}

// Empties the default-model slots that name models about to be deleted, stamping the change.
// `where` (a literal of this file) selects the models by $1.
Status ClearSlotsOfModels(Connection& db, std::string_view where, const std::string& key, const std::string& now) {
  return db
      .Query("UPDATE default_model SET model_id = NULL, updated = $2 WHERE model_id IN (SELECT id FROM model WHERE " +
                 std::string(where) + ")",
             Params().Add(key).Add(now))
      .status();
}

Result<DefaultModels> SelectDefaultModels(Connection& db) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT slot, model_id, updated FROM default_model"));
  // Return the slots in the API's order, and every slot even if a row went missing.
  DefaultModels ordered;
  for (std::string_view slot : kDefaultModelSlots) {
    DefaultModelSlot entry{std::string(slot), std::nullopt, ""};
    for (int row = 0; row < rows.size(); ++row) {
      if (rows.Text(row, 0) == slot) entry = DefaultModelSlot{rows.Text(row, 0), rows.OptionalText(row, 1), rows.Text(row, 2)};
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

Result<Credential> PostgresStorage::CreateCredential(const Credential& input) {
  Credential credential = input;
  credential.created = credential.updated = NowTimestamp();
  credential.model_count = 0;
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_RETURN_IF_ERROR(db->Query("INSERT INTO credential (id, name, provider, modalities, api_key_ciphertext, "
                               "api_key_nonce, api_key_version, base_url, endpoint, api_version, endpoint_llm, "
                               "endpoint_embedding, endpoint_stt, endpoint_tts, project, location, credentials_path, "
                               "num_ctx, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                               "$13, $14, $15, $16, $17, $18, $19, $20)",
                               CredentialParams(credential))
                         .status());
  return credential;
}

Result<Credential> PostgresStorage::GetCredential(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectCredential(*db, id, false);
}

Result<std::vector<Credential>> PostgresStorage::ListCredentials(const std::optional<std::string>& provider) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(std::string(kCredentialColumns) +
                                               "WHERE ($1::text IS NULL OR c.provider = $1) ORDER BY c.created, c.id",
                                           Params().Add(provider)));
  std::vector<Credential> credentials;
  for (int row = 0; row < rows.size(); ++row) credentials.push_back(ReadCredential(rows, row));
  return credentials;
}

Result<Credential> PostgresStorage::UpdateCredential(const std::string& id,
                                                     const std::function<Status(Credential&)>& change) {
  return InTransaction<Credential>([&](Connection& db) -> Result<Credential> {
    ON_ASSIGN_OR_RETURN(Credential credential, SelectCredential(db, id, true));
    ON_RETURN_IF_ERROR(change(credential));
    credential.id = id;
    credential.updated = NowTimestamp();
    ON_ASSIGN_OR_RETURN(auto updated,
                        db.Query("UPDATE credential SET name = $2, provider = $3, modalities = $4, "
                                 "api_key_ciphertext = $5, api_key_nonce = $6, api_key_version = $7, base_url = $8, "
                                 "endpoint = $9, api_version = $10, endpoint_llm = $11, endpoint_embedding = $12, "
                                 "endpoint_stt = $13, endpoint_tts = $14, project = $15, location = $16, "
                                 "credentials_path = $17, num_ctx = $18, updated = $20 WHERE id = $1 AND created = $19",
                                 CredentialParams(credential)));
    if (updated.affected() == 0) return InternalError("credential " + id + " changed its creation time during an update");
    return credential;
  });
}

Result<CredentialDeleteResult> PostgresStorage::DeleteCredential(const std::string& id,
                                                                 const std::optional<std::string>& migrate_to) {
  return InTransaction<CredentialDeleteResult>([&](Connection& db) -> Result<CredentialDeleteResult> {
    ON_ASSIGN_OR_RETURN(Credential credential, SelectCredential(db, id, true));
    CredentialDeleteResult result;
    const std::string now = NowTimestamp();

    if (migrate_to) {
      if (*migrate_to == id) return InvalidInput("migrate_to must name another credential than " + id);
      ON_ASSIGN_OR_RETURN(Credential target, SelectCredential(db, *migrate_to, true));
      if (target.provider != credential.provider) {
        return InvalidInput("migrate_to credential " + target.id + " is for provider " + target.provider + ", but " +
                            id + " is for " + credential.provider + "; choose a credential of the same provider");
      }
      ON_ASSIGN_OR_RETURN(auto moved, db.Query("UPDATE model SET credential_id = $2, updated = $3 WHERE credential_id = $1",
                                               Params().Add(id).Add(target.id).Add(now)));
      result.migrated_models = moved.affected();
    } else {
      ON_RETURN_IF_ERROR(ClearSlotsOfModels(db, "credential_id = $1", id, now));
      ON_ASSIGN_OR_RETURN(auto removed, db.Query("DELETE FROM model WHERE credential_id = $1", Params().Add(id)));
      result.deleted_models = removed.affected();
    }

    ON_RETURN_IF_ERROR(db.Query("DELETE FROM credential WHERE id = $1", Params().Add(id)).status());
    return result;
  });
}

Result<int64_t> PostgresStorage::ResealApiKeys(
    const std::function<Result<std::optional<SealedApiKey>>(const Credential&)>& reseal) {
  return InTransaction<int64_t>([&](Connection& db) -> Result<int64_t> {
    // Locks every credential with a key, so a concurrent update cannot write a key sealed with
    // the old secret after this pass.
    ON_RETURN_IF_ERROR(db.Query("SELECT id FROM credential WHERE api_key_ciphertext IS NOT NULL FOR UPDATE").status());
    ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kCredentialColumns) +
                                                "WHERE c.api_key_ciphertext IS NOT NULL ORDER BY c.created, c.id"));
    int64_t changed = 0;
    for (int row = 0; row < rows.size(); ++row) {
      const Credential credential = ReadCredential(rows, row);
      ON_ASSIGN_OR_RETURN(std::optional<SealedApiKey> sealed, reseal(credential));
      if (!sealed) continue;
      // `updated` stays: the credential's settings did not change, only how its key is stored.
      ON_RETURN_IF_ERROR(db.Query("UPDATE credential SET api_key_ciphertext = $2, api_key_nonce = $3, "
                                  "api_key_version = $4 WHERE id = $1",
                                  Params().Add(credential.id).Add(sealed->ciphertext).Add(sealed->nonce).Add(
                                      sealed->key_version))
                             .status());
      ++changed;
    }
    return changed;
  });
}

Result<Model> PostgresStorage::CreateModel(const Model& input) {
  return InTransaction<Model>([&](Connection& db) -> Result<Model> {
    if (input.credential_id) {
      ON_ASSIGN_OR_RETURN(Credential credential, SelectCredential(db, *input.credential_id, true));
      if (credential.provider != input.provider) {
        return InvalidInput("credential " + credential.id + " is for provider " + credential.provider + ", not " +
                            input.provider + "; link the model to a credential of its provider");
      }
    }
    Model model = input;
    model.id = NewId("model");
    model.created = model.updated = NowTimestamp();
    ON_ASSIGN_OR_RETURN(auto duplicate, InsertModelUnlessDuplicate(db, model));
    if (duplicate) return InvalidInput(DuplicateModelMessage(input, *duplicate));
    return model;
  });
}

Result<Model> PostgresStorage::GetModel(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectModel(*db, id, false);
}

Result<std::vector<Model>> PostgresStorage::ListModels(const ModelQuery& query) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(std::string(kModelColumns) +
                                               "WHERE ($1::text IS NULL OR type = $1) AND "
                                               "($2::text IS NULL OR lower(provider) = lower($2)) "
                                               "ORDER BY provider, type, lower(name), id",
                                           Params().Add(query.type).Add(query.provider)));
  std::vector<Model> models;
  for (int row = 0; row < rows.size(); ++row) models.push_back(ReadModel(rows, row));
  return models;
}

Status PostgresStorage::DeleteModel(const std::string& id) {
  return InTransaction<bool>([&](Connection& db) -> Result<bool> {
           ON_RETURN_IF_ERROR(ClearSlotsOfModels(db, "id = $1", id, NowTimestamp()));
           ON_ASSIGN_OR_RETURN(auto deleted, db.Query("DELETE FROM model WHERE id = $1", Params().Add(id)));
           if (deleted.affected() == 0) return NotFound("model " + id + " was not found");
           return true;
         })
      .status();
}

Result<ModelRegistration> PostgresStorage::RegisterModels(const std::string& credential_id,
                                                          const std::vector<Model>& models) {
  return InTransaction<ModelRegistration>([&](Connection& db) -> Result<ModelRegistration> {
    ON_ASSIGN_OR_RETURN(Credential credential, SelectCredential(db, credential_id, true));
    ModelRegistration registration;
    const std::string now = NowTimestamp();
    for (const Model& input : models) {
      if (input.provider != credential.provider) {
        return InvalidInput("model '" + input.name + "' is for provider " + input.provider + ", but credential " +
                            credential_id + " is for " + credential.provider);
      }
      Model model = input;
      model.id = NewId("model");
      model.credential_id = credential_id;
      model.created = model.updated = now;
      ON_ASSIGN_OR_RETURN(auto duplicate, InsertModelUnlessDuplicate(db, model));
      if (duplicate) {
        ++registration.existing;
      } else {
        ++registration.created;
      }
    }
    return registration;
  });
}

Result<int64_t> PostgresStorage::LinkUnassignedModels(const std::string& provider, const std::string& credential_id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto linked, db->Query("UPDATE model SET credential_id = $2, updated = $3 "
                                             "WHERE credential_id IS NULL AND lower(provider) = lower($1)",
                                             Params().Add(provider).Add(credential_id).Add(NowTimestamp())));
  return linked.affected();
}

Result<DefaultModels> PostgresStorage::GetDefaultModels() {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectDefaultModels(*db);
}

Result<DefaultModels> PostgresStorage::SetDefaultModels(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  return InTransaction<DefaultModels>([&](Connection& db) -> Result<DefaultModels> {
    const std::string now = NowTimestamp();
    for (const auto& [slot, model_id] : changes) {
      if (!IsDefaultSlot(slot)) return InvalidInput("'" + slot.substr(0, 64) + "' is not a default-model slot");
      if (model_id) {
        ON_ASSIGN_OR_RETURN(Model model, SelectModel(db, *model_id, true));
        const std::string_view expected = DefaultSlotModelType(slot);
        if (model.type != expected) {
          return InvalidInput(slot + " needs a " + std::string(expected) + " model, but " + model.id + " (" +
                              model.name + ") is a " + model.type + " model");
        }
      }
      // Only a real change moves `updated`, so setting the same model again triggers nothing.
      ON_ASSIGN_OR_RETURN(auto updated, db.Query("UPDATE default_model SET model_id = $2, updated = $3 "
                                                 "WHERE slot = $1 AND model_id IS DISTINCT FROM $2",
                                                 Params().Add(slot).Add(model_id).Add(now)));
      if (updated.affected() > 0) ON_RETURN_IF_ERROR(BumpConfigVersion(db, now));
    }
    return SelectDefaultModels(db);
  });
}

}  // namespace on::storage::postgres
